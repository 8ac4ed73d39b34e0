# FinPulse on AWS: ECS Fargate (web, worker, beat), RDS PostgreSQL, ElastiCache Redis,
# Amazon MQ RabbitMQ, S3, Secrets Manager, CloudWatch. See docs/deploy.md.
terraform {
  required_version = ">= 1.11.0" # write-only attributes keep generated secrets out of the state

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }

  # State in S3 with locking; the bucket is made once per account (docs/deploy.md, step 1):
  #   terraform init -backend-config=envs/<env>.backend.hcl
  backend "s3" {}
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Application = "finpulse"
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  name       = "finpulse-${var.environment}"
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  azs        = var.availability_zones
  az_count   = length(var.availability_zones)
}
