# One value set per environment in envs/<env>.tfvars.

variable "environment" {
  description = "Environment name (staging, production); part of every resource name."
  type        = string
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "eu-west-2"
}

variable "availability_zones" {
  description = "Availability zones used, named explicitly so the set never changes by itself (2 or 3; Multi-AZ RDS, Redis and MQ need 2+)."
  type        = list(string)
  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 3
    error_message = "Give 2 or 3 availability zones."
  }
}

variable "vpc_cidr" {
  description = "VPC address range; split into public, private (app) and data subnets per AZ."
  type        = string
  default     = "10.40.0.0/16"
}

variable "single_nat_gateway" {
  description = "One NAT gateway instead of one per AZ (cheaper, for non-production)."
  type        = bool
  default     = false
}

variable "domain_name" {
  description = "Host name users open (DJANGO_ALLOWED_HOSTS, CSRF origin)."
  type        = string
}

variable "certificate_arn" {
  description = "ACM certificate for domain_name, used by the ALB's HTTPS listener."
  type        = string
}

variable "services_enabled" {
  description = "Run the web, worker and beat services. false on the very first apply: the schema does not exist until the migrate task ran (docs/deploy.md)."
  type        = bool
  default     = true
}

variable "image" {
  description = "The FinPulse image (infra/Dockerfile) with an immutable tag or digest, e.g. <account>.dkr.ecr.<region>.amazonaws.com/finpulse:<git sha>."
  type        = string
}

variable "web_cpu" {
  description = "Fargate CPU units per web task."
  type        = number
  default     = 1024
}

variable "web_memory" {
  description = "Fargate memory (MiB) per web task."
  type        = number
  default     = 2048
}

variable "web_min_count" {
  description = "Fewest web tasks (at least 2 in production: one per AZ)."
  type        = number
  default     = 2
}

variable "web_max_count" {
  description = "Most web tasks the autoscaler may run."
  type        = number
  default     = 12
}

variable "web_concurrency" {
  description = "gunicorn worker processes per web task (WEB_CONCURRENCY)."
  type        = number
  default     = 3
}

variable "web_cpu_target" {
  description = "Average CPU (%) the web autoscaler keeps."
  type        = number
  default     = 60
}

variable "web_requests_per_target" {
  description = "ALB requests per web task per minute the autoscaler keeps."
  type        = number
  default     = 3000
}

variable "worker_cpu" {
  description = "Fargate CPU units per worker task."
  type        = number
  default     = 1024
}

variable "worker_memory" {
  description = "Fargate memory (MiB) per worker task."
  type        = number
  default     = 2048
}

variable "worker_min_count" {
  description = "Fewest Celery worker tasks."
  type        = number
  default     = 2
}

variable "worker_max_count" {
  description = "Most Celery worker tasks."
  type        = number
  default     = 6
}

variable "db_instance_class" {
  description = "RDS instance class of the primary."
  type        = string
  default     = "db.r6g.large"
}

variable "db_replica_instance_class" {
  description = "RDS instance class of the read replica (reports, lists, exports)."
  type        = string
  default     = "db.r6g.large"
}

variable "db_allocated_storage" {
  description = "Initial storage (GiB); grows automatically up to db_max_allocated_storage."
  type        = number
  default     = 100
}

variable "db_max_allocated_storage" {
  description = "Storage autoscaling ceiling (GiB)."
  type        = number
  default     = 1000
}

variable "db_engine_version" {
  description = "PostgreSQL major.minor version."
  type        = string
  default     = "15.10"
}

variable "db_backup_retention_days" {
  description = "Automated backups and point-in-time recovery window (days, 1-35)."
  type        = number
  default     = 35
}

variable "redis_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.r7g.large"
}

variable "mq_instance_type" {
  description = "Amazon MQ broker instance type."
  type        = string
  default     = "mq.m5.large"
}

variable "mq_cluster" {
  description = "Three-node Multi-AZ RabbitMQ cluster (production) instead of a single broker."
  type        = bool
  default     = true
}

variable "audit_anchor_retention_days" {
  description = "Object Lock (compliance mode) retention of audit anchors. Cannot be shortened or removed once written, not even by the root user."
  type        = number
  default     = 3650
}

variable "log_retention_days" {
  description = "CloudWatch log retention (days)."
  type        = number
  default     = 400
}

variable "alarm_email" {
  description = "Address subscribed to the alarm topic (empty: subscribe later, e.g. PagerDuty)."
  type        = string
  default     = ""
}

variable "app_environment" {
  description = "Extra non-secret environment variables for every FinPulse container (config/example.env)."
  type        = map(string)
  default     = {}
}

variable "capture_relay_cidrs" {
  description = "Addresses (CIDR) of the bank's mail relay that delivers to the email capture endpoint. Empty: no capture service, load balancer or open port is created."
  type        = list(string)
  default     = []
}

variable "capture_addresses" {
  description = "The email capture addresses managers BCC or forward customer emails to (FINPULSE_CAPTURE_ADDRESSES); the relay routes them to the capture load balancer."
  type        = list(string)
  default     = ["capture@finpulse.bank.example"]
}

variable "capture_count" {
  description = "Email capture tasks (2: one can restart while the other receives; the relay retries meanwhile)."
  type        = number
  default     = 2
}
