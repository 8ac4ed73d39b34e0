# What a platform engineer needs after `terraform apply` (docs/deploy.md uses each of these).

output "url" {
  description = "Where users open FinPulse (point domain_name's DNS record at alb_dns_name)."
  value       = "https://${var.domain_name}"
}

output "alb_dns_name" {
  description = "DNS name of the load balancer: the target of the CNAME/alias record for domain_name."
  value       = aws_lb.main.dns_name
}

output "ecr_repository_url" {
  description = "Push images here (tag = git commit); set var.image to <url>:<tag>."
  value       = aws_ecr_repository.finpulse.repository_url
}

output "ecs_cluster" {
  description = "ECS cluster name (aws ecs run-task / update-service --cluster)."
  value       = aws_ecs_cluster.main.name
}

output "ecs_services" {
  description = "ECS service names per role."
  value = merge(
    { web = aws_ecs_service.web.name, worker = aws_ecs_service.worker.name, beat = aws_ecs_service.beat.name },
    { for service in aws_ecs_service.capture : "capture" => service.name },
  )
}

output "migrate_task_definition" {
  description = "Task definition of the one-off migrate task, run before each rollout."
  value       = aws_ecs_task_definition.app["migrate"].arn
}

output "task_network" {
  description = "Subnets and security group for `aws ecs run-task --network-configuration` (migrate, manage commands)."
  value       = { subnets = aws_subnet.app[*].id, security_groups = [aws_security_group.app.id] }
}

output "database_endpoint" {
  description = "RDS primary (writes, migrations)."
  value       = aws_db_instance.primary.endpoint
}

output "database_replica_endpoint" {
  description = "RDS read replica (DATABASE_REPLICA_URL)."
  value       = aws_db_instance.replica.endpoint
}

output "redis_endpoint" {
  description = "ElastiCache primary endpoint (TLS, auth token)."
  value       = aws_elasticache_replication_group.redis.primary_endpoint_address
}

output "broker_endpoint" {
  description = "Amazon MQ AMQPS endpoint."
  value       = aws_mq_broker.rabbitmq.instances[0].endpoints[0]
}

output "buckets" {
  description = "S3 buckets: attachments (FINPULSE_STORAGE_BUCKET), audit_anchors (Object Lock, compliance mode), logs."
  value       = local.buckets
}

output "kms_key_arn" {
  description = "The customer-managed key encrypting every data store of this environment."
  value       = aws_kms_key.main.arn
}

output "secret_arns" {
  description = "Secrets Manager secrets per purpose; the operator fills `external` (docs/deploy.md)."
  value       = { for k, s in aws_secretsmanager_secret.all : k => s.arn }
}

output "alarm_topic_arn" {
  description = "SNS topic of every CloudWatch alarm (subscribe the on-call tool here)."
  value       = aws_sns_topic.alarms.arn
}

output "capture_endpoint" {
  description = "Internal DNS name of the email capture load balancer (SMTP, port 25) the bank's relay delivers the capture addresses to; null while capture_relay_cidrs is empty."
  value       = one(aws_lb.capture[*].dns_name)
}
