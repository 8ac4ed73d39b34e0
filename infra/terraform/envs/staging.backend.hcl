# terraform init -backend-config=envs/staging.backend.hcl (state bucket made once, docs/deploy.md)
bucket       = "bank-terraform-state-staging"
key          = "finpulse/staging.tfstate"
region       = "eu-west-2"
encrypt      = true
use_lockfile = true
