# Shared by infra/smoke/run.sh and benchmarks/containers_bench.py: tools, the Debian base
# image (debootstrap, cached under var/), the FinPulse image. Source it from the repo root.
# shellcheck shell=bash

SMOKE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SMOKE_DIR/../.." && pwd)"
export CONTAINERS_CONF="$SMOKE_DIR/containers.conf"
BASE_TAG="docker.io/library/debian:bookworm-slim"
IMAGE="${FINPULSE_IMAGE:-localhost/finpulse:smoke}"
BASE_CACHE="$REPO_ROOT/var/container-base"

log() { printf '== %s %s\n' "$(date -u +%H:%M:%S)" "$*"; }

podman_() { podman --runtime /usr/sbin/runc "$@"; }

ensure_tools() {
  local missing=()
  command -v podman >/dev/null || missing+=(podman)
  test -x /usr/sbin/runc || missing+=(runc)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

debian_mirror() {
  # The mirror this machine's apt uses (deb822 or one-line sources), else Debian's CDN.
  local uri
  uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [[ -z "$uri" ]] && uri=$(awk '/^deb / && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

# debian:bookworm-slim made locally: a debootstrap minbase tarball cached under var/, imported
# under the Docker Hub name so `FROM debian:bookworm-slim` builds unchanged here and elsewhere.
ensure_base() {
  if podman_ image exists "$BASE_TAG"; then
    return 0
  fi
  mkdir -p "$BASE_CACHE"
  if [[ ! -s "$BASE_CACHE/bookworm-minbase.tar" ]]; then
    log "debootstrap bookworm minbase (once; cached in var/container-base)"
    local root="$BASE_CACHE/rootfs"
    rm -rf "$root"
    debootstrap --variant=minbase bookworm "$root" "$(debian_mirror)" >"$BASE_CACHE/debootstrap.log" 2>&1 \
      || { tail -20 "$BASE_CACHE/debootstrap.log"; return 1; }
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" -cf "$BASE_CACHE/bookworm-minbase.tar.tmp" .
    mv "$BASE_CACHE/bookworm-minbase.tar.tmp" "$BASE_CACHE/bookworm-minbase.tar"
    rm -rf "$root"
  fi
  log "importing the base as $BASE_TAG"
  podman_ import -q --change 'CMD ["bash"]' "$BASE_CACHE/bookworm-minbase.tar" "$BASE_TAG" >/dev/null
}

# Builds the image; prints the seconds it took to $BUILD_SECONDS.
build_image() {
  local ca=/etc/ssl/certs/ca-certificates.crt start
  start=$(date +%s)
  log "building $IMAGE"
  podman_ build --format docker --network host --pull=never -f "$REPO_ROOT/infra/Dockerfile" -t "$IMAGE" \
    -v "$ca:/run/host-ca.pem:ro" --build-arg PIP_CERT=/run/host-ca.pem "$REPO_ROOT"
  BUILD_SECONDS=$(($(date +%s) - start))
  export BUILD_SECONDS
}
