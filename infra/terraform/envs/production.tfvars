# Production: three AZs, NAT per AZ, Multi-AZ everything. terraform plan -var-file=envs/production.tfvars
environment        = "production"
region             = "eu-west-2"
availability_zones = ["eu-west-2a", "eu-west-2b", "eu-west-2c"]
vpc_cidr           = "10.40.0.0/16"
single_nat_gateway = false
domain_name        = "finpulse.bank.example"
certificate_arn    = "arn:aws:acm:eu-west-2:222222222222:certificate/00000000-0000-0000-0000-000000000000"
image              = "222222222222.dkr.ecr.eu-west-2.amazonaws.com/finpulse:REPLACE_WITH_GIT_SHA"

web_cpu                 = 1024
web_memory              = 2048
web_min_count           = 3
web_max_count           = 12
web_concurrency         = 3
web_cpu_target          = 60
web_requests_per_target = 3000
worker_cpu              = 1024
worker_memory           = 2048
worker_min_count        = 2
worker_max_count        = 6

db_instance_class         = "db.r6g.xlarge"
db_replica_instance_class = "db.r6g.large"
db_allocated_storage      = 200
db_max_allocated_storage  = 2000
db_backup_retention_days  = 35

redis_node_type  = "cache.r7g.large"
mq_instance_type = "mq.m5.large"
mq_cluster       = true

audit_anchor_retention_days = 3650
log_retention_days          = 731
alarm_email                 = "platform-alerts@bank.example"

app_environment = {
  FINPULSE_SITE_URL = "https://finpulse.bank.example"
}

# Email capture (capture.tf): the mail relay that delivers to the capture address; empty creates
# no capture service or load balancer. E.g. ["10.20.5.10/32", "10.20.6.10/32"].
capture_relay_cidrs = []
