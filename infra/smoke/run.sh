#!/usr/bin/env bash
# Container smoke test (called by .ci/run after `make test`; by hand: `make container-smoke`).
# Builds the one image with podman from a debootstrap Debian base cached under var/, then
# runs it against this machine's PostgreSQL, Redis and RabbitMQ (see docs/deploy.md).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

ensure_tools
ensure_base
build_image
log "image $IMAGE built in ${BUILD_SECONDS}s, $(podman_ image inspect "$IMAGE" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}')"
