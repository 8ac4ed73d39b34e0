# terraform init -backend-config=envs/production.backend.hcl (state bucket made once, docs/deploy.md)
bucket       = "bank-terraform-state-production"
key          = "finpulse/production.tfstate"
region       = "eu-west-2"
encrypt      = true
use_lockfile = true
