#!/usr/bin/env bash
# Offline checks of the deployment code: hadolint (Dockerfile), terraform fmt and validate,
# checkov (Terraform and Dockerfile), podman-compose config (compose file).
# Run through `make infra-lint` (which installs var/tools-venv first).
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS=var/tools-venv/bin
export BC_SKIP_MAPPING=TRUE  # checkov: no guideline download (offline)
log() { printf '== %s\n' "$*"; }

log "hadolint infra/Dockerfile infra/compose/pgbouncer.Dockerfile"
.venv/bin/hadolint infra/Dockerfile infra/compose/pgbouncer.Dockerfile

if [[ -d infra/terraform ]]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  touch "$work/empty.tfrc"
  export TF_CLI_CONFIG_FILE="$work/empty.tfrc" TF_DATA_DIR="$work/data" TF_IN_AUTOMATION=1
  log "terraform fmt -check"
  terraform fmt -check -recursive -diff infra/terraform
  # `terraform init` cannot download providers here; where a local provider mirror exists
  # (TF_PROVIDER_MIRROR, default /opt/tf-plugins) validate against it, else skip validate.
  mirror="${TF_PROVIDER_MIRROR:-/opt/tf-plugins}"
  if [[ -d "$mirror/registry.terraform.io/hashicorp/aws" ]]; then
    log "terraform validate (providers from $mirror)"
    cat >"$work/cli.tfrc" <<TFRC
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/hashicorp/*"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/*"]
  }
}
TFRC
    export TF_CLI_CONFIG_FILE="$work/cli.tfrc"
    terraform -chdir=infra/terraform init -backend=false -input=false -lockfile=readonly >/dev/null
    terraform -chdir=infra/terraform validate -no-color
  else
    log "terraform validate skipped: no provider mirror at $mirror"
  fi
  log "checkov infra/terraform"
  "$TOOLS/checkov" --quiet --compact --skip-download --framework terraform -d infra/terraform
fi

log "checkov infra/Dockerfile"
"$TOOLS/checkov" --quiet --compact --skip-download --framework dockerfile -f infra/Dockerfile

if [[ -f infra/compose.yaml ]] && command -v podman >/dev/null; then
  log "podman-compose config"
  "$TOOLS/podman-compose" -f infra/compose.yaml config >/dev/null
fi
log "infra lint passed"
