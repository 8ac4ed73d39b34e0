# Staging: same shape as production, smaller and cheaper. terraform plan -var-file=envs/staging.tfvars
environment        = "staging"
region             = "eu-west-2"
availability_zones = ["eu-west-2a", "eu-west-2b"]
vpc_cidr           = "10.41.0.0/16"
single_nat_gateway = true
domain_name        = "finpulse.staging.bank.example"
certificate_arn    = "arn:aws:acm:eu-west-2:111111111111:certificate/00000000-0000-0000-0000-000000000000"
image              = "111111111111.dkr.ecr.eu-west-2.amazonaws.com/finpulse:REPLACE_WITH_GIT_SHA"

web_cpu          = 512
web_memory       = 1024
web_min_count    = 2
web_max_count    = 4
web_concurrency  = 2
worker_cpu       = 512
worker_memory    = 1024
worker_min_count = 1
worker_max_count = 2

db_instance_class         = "db.t4g.medium"
db_replica_instance_class = "db.t4g.medium"
db_allocated_storage      = 50
db_max_allocated_storage  = 200
db_backup_retention_days  = 7

redis_node_type  = "cache.t4g.small"
mq_instance_type = "mq.t3.micro"
mq_cluster       = false

# Compliance-mode retention cannot be shortened: keep it short outside production.
audit_anchor_retention_days = 1
log_retention_days          = 400
alarm_email                 = "platform-alerts+staging@bank.example"

app_environment = {
  FINPULSE_SITE_URL = "https://finpulse.staging.bank.example"
}

# Email capture (capture.tf): the mail relay that delivers to the capture address; empty creates
# no capture service or load balancer. E.g. ["10.20.5.10/32", "10.20.6.10/32"].
capture_relay_cidrs = []
