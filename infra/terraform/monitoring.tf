# CloudWatch: one log group per role (KMS-encrypted), alarms to an SNS topic.

resource "aws_cloudwatch_log_group" "app" {
  for_each          = local.roles
  name              = "/finpulse/${var.environment}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

resource "aws_cloudwatch_log_group" "flow_logs" {
  name              = "/finpulse/${var.environment}/vpc-flow-logs"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

resource "aws_cloudwatch_log_group" "redis" {
  name              = "/finpulse/${var.environment}/redis-slow-log"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

# WAF requires the aws-waf-logs- prefix.
resource "aws_cloudwatch_log_group" "waf" {
  name              = "aws-waf-logs-${local.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.main.arn
}

resource "aws_sns_topic" "alarms" {
  name              = "${local.name}-alarms"
  kms_master_key_id = aws_kms_key.main.arn
}

resource "aws_sns_topic_subscription" "email" {
  count     = var.alarm_email == "" ? 0 : 1
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

locals {
  alb_dims = { LoadBalancer = aws_lb.main.arn_suffix }
  tg_dims  = { LoadBalancer = aws_lb.main.arn_suffix, TargetGroup = aws_lb_target_group.web.arn_suffix }

  alarms = merge({
    web-5xx = {
      description = "Web answered more than 20 server errors in 5 minutes"
      namespace   = "AWS/ApplicationELB", metric = "HTTPCode_Target_5XX_Count", stat = "Sum"
      dims        = local.alb_dims, threshold = 20, op = "GreaterThanThreshold", periods = 1
    }
    web-p95-latency = {
      description = "Web p95 response time above 1.5 s for 10 minutes"
      namespace   = "AWS/ApplicationELB", metric = "TargetResponseTime", stat = "p95"
      dims        = local.alb_dims, threshold = 1.5, op = "GreaterThanThreshold", periods = 2
    }
    web-unhealthy = {
      description = "A web task has failed /readyz for 10 minutes"
      namespace   = "AWS/ApplicationELB", metric = "UnHealthyHostCount", stat = "Maximum"
      dims        = local.tg_dims, threshold = 0, op = "GreaterThanThreshold", periods = 2
    }
    beat-not-running = {
      description = "No Celery beat task is running (scans, relay and sealer stopped)"
      namespace   = "ECS/ContainerInsights", metric = "RunningTaskCount", stat = "Minimum"
      dims        = { ClusterName = aws_ecs_cluster.main.name, ServiceName = aws_ecs_service.beat.name }
      threshold   = 1, op = "LessThanThreshold", periods = 2
    }
    worker-cpu = {
      description = "Workers above 90% CPU for 15 minutes at the autoscaling ceiling"
      namespace   = "AWS/ECS", metric = "CPUUtilization", stat = "Average"
      dims        = { ClusterName = aws_ecs_cluster.main.name, ServiceName = aws_ecs_service.worker.name }
      threshold   = 90, op = "GreaterThanThreshold", periods = 3
    }
    db-cpu = {
      description = "RDS primary CPU above 80% for 15 minutes"
      namespace   = "AWS/RDS", metric = "CPUUtilization", stat = "Average"
      dims        = { DBInstanceIdentifier = aws_db_instance.primary.identifier }
      threshold   = 80, op = "GreaterThanThreshold", periods = 3
    }
    db-free-storage = {
      description = "RDS primary has less than 10 GiB free"
      namespace   = "AWS/RDS", metric = "FreeStorageSpace", stat = "Minimum"
      dims        = { DBInstanceIdentifier = aws_db_instance.primary.identifier }
      threshold   = 10737418240, op = "LessThanThreshold", periods = 1
    }
    db-replica-lag = {
      description = "Read replica more than 60 s behind (reports show stale data)"
      namespace   = "AWS/RDS", metric = "ReplicaLag", stat = "Maximum"
      dims        = { DBInstanceIdentifier = aws_db_instance.replica.identifier }
      threshold   = 60, op = "GreaterThanThreshold", periods = 2
    }
    redis-cpu = {
      description = "Redis engine CPU above 80%"
      namespace   = "AWS/ElastiCache", metric = "EngineCPUUtilization", stat = "Average"
      dims        = { ReplicationGroupId = aws_elasticache_replication_group.redis.id }
      threshold   = 80, op = "GreaterThanThreshold", periods = 3
    }
    redis-memory = {
      description = "Redis memory above 85%"
      namespace   = "AWS/ElastiCache", metric = "DatabaseMemoryUsagePercentage", stat = "Maximum"
      dims        = { ReplicationGroupId = aws_elasticache_replication_group.redis.id }
      threshold   = 85, op = "GreaterThanThreshold", periods = 2
    }
    broker-backlog = {
      description = "More than 5,000 messages waiting in RabbitMQ for 15 minutes"
      namespace   = "AWS/AmazonMQ", metric = "MessageCount", stat = "Maximum"
      dims        = { Broker = aws_mq_broker.rabbitmq.broker_name }
      threshold   = 5000, op = "GreaterThanThreshold", periods = 3
    }
    }, { for lb in aws_lb.capture : "capture-unhealthy" => {
      description = "An email capture task has failed its SMTP health check for 10 minutes (the relay is queueing captured mail)"
      namespace   = "AWS/NetworkELB", metric = "UnHealthyHostCount", stat = "Maximum"
      dims        = { LoadBalancer = lb.arn_suffix, TargetGroup = aws_lb_target_group.capture[0].arn_suffix }
      threshold   = 0, op = "GreaterThanThreshold", periods = 2
  } })
}

resource "aws_cloudwatch_metric_alarm" "all" {
  for_each            = local.alarms
  alarm_name          = "${local.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  statistic           = startswith(each.value.stat, "p") ? null : each.value.stat
  extended_statistic  = startswith(each.value.stat, "p") ? each.value.stat : null
  dimensions          = each.value.dims
  period              = 300
  evaluation_periods  = each.value.periods
  threshold           = each.value.threshold
  comparison_operator = each.value.op
  treat_missing_data  = each.key == "beat-not-running" ? "breaching" : "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}
