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
size=$(podman_ image inspect "$IMAGE" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}')
log "image $IMAGE built in ${BUILD_SECONDS}s, $size"
mkdir -p var
printf '%s build_seconds=%s size="%s" base=%s\n' "$(date -u +%FT%TZ)" "$BUILD_SECONDS" "$size" \
  "$(podman_ image inspect "$BASE_TAG" --format '{{.Id}}' | cut -c1-12)" >>var/container-builds.log

"$REPO_ROOT/var/tools-venv/bin/python" "$SMOKE_DIR/journey.py"
