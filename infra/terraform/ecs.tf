# ECS Fargate: one image, three services (web behind the ALB, worker, beat), the email capture
# service (capture.tf) and a one-off migrate task run before each rollout (docs/deploy.md).
# Tasks run in the private app subnets.

resource "aws_ecr_repository" "finpulse" {
  name                 = "finpulse"
  image_tag_mutability = "IMMUTABLE"
  image_scanning_configuration {
    scan_on_push = true
  }
  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = aws_kms_key.main.arn
  }
}

resource "aws_ecr_lifecycle_policy" "finpulse" {
  repository = aws_ecr_repository.finpulse.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the last 50 images (rollback targets)"
      selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 50 }
      action       = { type = "expire" }
    }]
  })
}

resource "aws_ecs_cluster" "main" {
  name = local.name
  setting {
    name  = "containerInsights"
    value = "enhanced"
  }
}

resource "aws_ecs_cluster_capacity_providers" "main" {
  cluster_name       = aws_ecs_cluster.main.name
  capacity_providers = ["FARGATE"]
  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
  }
}

# ---- IAM: the execution role starts tasks (image, logs, secrets); the task role is the app ----

data "aws_iam_policy_document" "ecs_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${local.name}-ecs-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_assume.json
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_iam_role_policy" "execution_secrets" {
  name = "read-finpulse-secrets"
  role = aws_iam_role.execution.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = [for s in aws_secretsmanager_secret.all : s.arn]
      },
      {
        Effect   = "Allow"
        Action   = ["kms:Decrypt"]
        Resource = [aws_kms_key.main.arn]
      },
    ]
  })
}

resource "aws_iam_role" "task" {
  name               = "${local.name}-app"
  assume_role_policy = data.aws_iam_policy_document.ecs_assume.json
}

# The app reaches S3 with the task role's temporary credentials (no access keys anywhere).
resource "aws_iam_role_policy" "task_storage" {
  name = "finpulse-storage"
  role = aws_iam_role.task.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "Attachments"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
        Resource = ["${aws_s3_bucket.attachments.arn}/*"]
      },
      {
        Sid      = "AuditAnchorsWriteOnce"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject", "s3:GetObjectRetention"]
        Resource = ["${aws_s3_bucket.audit_anchors.arn}/*"]
      },
      {
        Sid      = "List"
        Effect   = "Allow"
        Action   = ["s3:ListBucket"]
        Resource = [aws_s3_bucket.attachments.arn, aws_s3_bucket.audit_anchors.arn]
      },
      {
        Sid      = "Encryption"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = [aws_kms_key.main.arn]
      },
    ]
  })
}

# ---- task definitions: the same image and environment, different command ----

locals {
  # The entrypoint builds DATABASE_URL, DATABASE_REPLICA_URL, REDIS_URL and CELERY_BROKER_URL
  # from these parts and the injected secrets (infra/entrypoint.sh).
  app_environment = merge({
    DJANGO_ENV                   = "production"
    DJANGO_ALLOWED_HOSTS         = var.domain_name
    DJANGO_CSRF_TRUSTED_ORIGINS  = "https://${var.domain_name}"
    FINPULSE_SITE_URL            = "https://${var.domain_name}"
    DATABASE_HOST                = aws_db_instance.primary.address
    DATABASE_PORT                = tostring(aws_db_instance.primary.port)
    DATABASE_NAME                = local.db_name
    DATABASE_REPLICA_HOST        = aws_db_instance.replica.address
    DATABASE_SSLMODE             = "require"
    REDIS_HOST                   = aws_elasticache_replication_group.redis.primary_endpoint_address
    REDIS_PORT                   = "6379"
    MQ_ENDPOINT                  = aws_mq_broker.rabbitmq.instances[0].endpoints[0]
    FINPULSE_STORAGE_BUCKET      = aws_s3_bucket.attachments.id
    FINPULSE_AUDIT_ANCHOR_BUCKET = aws_s3_bucket.audit_anchors.id
    FINPULSE_DATA_KEY_STORE      = "directory"
    FINPULSE_DATA_KEY_DIR        = local.data_key_dir
    AWS_DEFAULT_REGION           = data.aws_region.current.name
    FINPULSE_BIND                = "0.0.0.0:8000"
    FORWARDED_ALLOW_IPS          = "*"
    WEB_CONCURRENCY              = tostring(var.web_concurrency)
    LOG_LEVEL                    = "INFO"
    # Email capture (capture.tf): the addresses managers BCC, and who may deliver to them.
    FINPULSE_CAPTURE_ADDRESSES     = join(",", var.capture_addresses)
    FINPULSE_CAPTURE_ALLOWED_PEERS = join(",", var.capture_relay_cidrs)
    FINPULSE_CAPTURE_BIND          = "0.0.0.0:2525"
  }, var.app_environment)

  app_secrets = merge(
    {
      DATABASE_USER     = "${aws_secretsmanager_secret.all["database"].arn}:username::"
      DATABASE_PASSWORD = "${aws_secretsmanager_secret.all["database"].arn}:password::"
      REDIS_AUTH_TOKEN  = "${aws_secretsmanager_secret.all["redis"].arn}:auth_token::"
      MQ_USER           = "${aws_secretsmanager_secret.all["rabbitmq"].arn}:username::"
      MQ_PASSWORD       = "${aws_secretsmanager_secret.all["rabbitmq"].arn}:password::"
    },
    { for k in ["DJANGO_SECRET_KEY", "CRYPTOGRAPHY_KEY", "BLIND_INDEX_KEY"] : k => "${aws_secretsmanager_secret.all["app"].arn}:${k}::" },
    { for k in ["EMAIL_URL", "OIDC_RP_CLIENT_SECRET", "OPENAI_API_KEY"] : k => "${aws_secretsmanager_secret.all["external"].arn}:${k}::" },
    { FINPULSE_METRICS_TOKEN = "${aws_secretsmanager_secret.all["metrics"].arn}:FINPULSE_METRICS_TOKEN::" },
  )

  # The customers' data keys: the EFS access point of data_keys.tf, mounted by every role.
  data_key_dir = "/app/var/data-keys"

  roles = {
    web     = { cpu = var.web_cpu, memory = var.web_memory, stop = 30 }
    worker  = { cpu = var.worker_cpu, memory = var.worker_memory, stop = 120 }
    beat    = { cpu = 256, memory = 512, stop = 30 }
    capture = { cpu = 256, memory = 512, stop = 30 }
    migrate = { cpu = 512, memory = 1024, stop = 30 }
  }
  # Roles that listen, and the port their load balancer reaches (the others listen on nothing).
  role_ports = { web = 8000, capture = 2525 }
}

resource "aws_ecs_task_definition" "app" {
  for_each                 = local.roles
  family                   = "${local.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = each.value.cpu
  memory                   = each.value.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn
  depends_on               = [aws_efs_mount_target.data_keys] # the data-key volume is mounted at start

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = "X86_64"
  }

  # The root filesystem is read-only; these volumes are the only writable paths (tmp and run
  # task-local, data-keys the EFS volume of data_keys.tf).
  volume {
    name = "tmp"
  }
  volume {
    name = "run"
  }
  volume {
    name = "data-keys"
    efs_volume_configuration {
      file_system_id     = aws_efs_file_system.data_keys.id
      transit_encryption = "ENABLED"
      authorization_config {
        access_point_id = aws_efs_access_point.data_keys.id
        iam             = "ENABLED"
      }
    }
  }

  container_definitions = jsonencode([{
    name                   = each.key
    image                  = var.image
    command                = [each.key]
    essential              = true
    user                   = "10001:10001"
    readonlyRootFilesystem = true
    stopTimeout            = each.value.stop
    linuxParameters        = { initProcessEnabled = true }
    portMappings           = contains(keys(local.role_ports), each.key) ? [{ containerPort = local.role_ports[each.key], protocol = "tcp" }] : []
    environment            = [for k, v in local.app_environment : { name = k, value = v }]
    secrets                = [for k, v in local.app_secrets : { name = k, valueFrom = v }]
    mountPoints = [
      { sourceVolume = "tmp", containerPath = "/tmp", readOnly = false },
      { sourceVolume = "run", containerPath = "/app/var/run", readOnly = false },
      { sourceVolume = "data-keys", containerPath = local.data_key_dir, readOnly = false },
    ]
    healthCheck = contains(keys(local.role_ports), each.key) ? {
      command     = ["CMD", "python3", "/app/infra/healthcheck.py"]
      interval    = 15
      timeout     = 5
      retries     = 3
      startPeriod = 30
    } : null
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.app[each.key].name
        awslogs-region        = data.aws_region.current.name
        awslogs-stream-prefix = each.key
      }
    }
  }])
}

locals {
  service_network = {
    subnets         = aws_subnet.app[*].id
    security_groups = [aws_security_group.app.id]
  }
}

resource "aws_ecs_service" "web" {
  name                              = "web"
  cluster                           = aws_ecs_cluster.main.id
  task_definition                   = aws_ecs_task_definition.app["web"].arn
  desired_count                     = var.services_enabled ? var.web_min_count : 0
  launch_type                       = "FARGATE"
  platform_version                  = "LATEST"
  health_check_grace_period_seconds = 60
  # Rolling update: new tasks start and pass the ALB health check before old ones drain.
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  propagate_tags                     = "SERVICE"
  enable_execute_command             = false

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = local.service_network.subnets
    security_groups  = local.service_network.security_groups
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = aws_lb_target_group.web.arn
    container_name   = "web"
    container_port   = 8000
  }

  lifecycle {
    ignore_changes = [desired_count] # owned by the autoscaler
  }
  depends_on = [aws_lb_listener.https]
}

resource "aws_ecs_service" "worker" {
  name                               = "worker"
  cluster                            = aws_ecs_cluster.main.id
  task_definition                    = aws_ecs_task_definition.app["worker"].arn
  desired_count                      = var.services_enabled ? var.worker_min_count : 0
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  propagate_tags                     = "SERVICE"
  enable_execute_command             = false

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  network_configuration {
    subnets          = local.service_network.subnets
    security_groups  = local.service_network.security_groups
    assign_public_ip = false
  }

  lifecycle {
    ignore_changes = [desired_count]
  }
}

# Exactly one beat: a rollout stops the old task before starting the new one (max 100%,
# min 0%). Its lease in PostgreSQL (core_lease) covers the overlap if ECS ever runs two.
resource "aws_ecs_service" "beat" {
  name                               = "beat"
  cluster                            = aws_ecs_cluster.main.id
  task_definition                    = aws_ecs_task_definition.app["beat"].arn
  desired_count                      = var.services_enabled ? 1 : 0
  launch_type                        = "FARGATE"
  platform_version                   = "LATEST"
  deployment_minimum_healthy_percent = 0
  deployment_maximum_percent         = 100
  propagate_tags                     = "SERVICE"
  enable_execute_command             = false

  network_configuration {
    subnets          = local.service_network.subnets
    security_groups  = local.service_network.security_groups
    assign_public_ip = false
  }
}

# ---- autoscaling: web on CPU and on ALB requests per task; worker on CPU ----

resource "aws_appautoscaling_target" "web" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.web.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.services_enabled ? var.web_min_count : 0
  max_capacity       = var.services_enabled ? var.web_max_count : 0
}

resource "aws_appautoscaling_policy" "web_cpu" {
  name               = "${local.name}-web-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.web.service_namespace
  resource_id        = aws_appautoscaling_target.web.resource_id
  scalable_dimension = aws_appautoscaling_target.web.scalable_dimension
  target_tracking_scaling_policy_configuration {
    target_value       = var.web_cpu_target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "web_requests" {
  name               = "${local.name}-web-requests"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.web.service_namespace
  resource_id        = aws_appautoscaling_target.web.resource_id
  scalable_dimension = aws_appautoscaling_target.web.scalable_dimension
  target_tracking_scaling_policy_configuration {
    target_value       = var.web_requests_per_target
    scale_in_cooldown  = 300
    scale_out_cooldown = 60
    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      resource_label         = "${aws_lb.main.arn_suffix}/${aws_lb_target_group.web.arn_suffix}"
    }
  }
}

resource "aws_appautoscaling_target" "worker" {
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.worker.name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = var.services_enabled ? var.worker_min_count : 0
  max_capacity       = var.services_enabled ? var.worker_max_count : 0
}

resource "aws_appautoscaling_policy" "worker_cpu" {
  name               = "${local.name}-worker-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.worker.service_namespace
  resource_id        = aws_appautoscaling_target.worker.resource_id
  scalable_dimension = aws_appautoscaling_target.worker.scalable_dimension
  target_tracking_scaling_policy_configuration {
    target_value       = 70
    scale_in_cooldown  = 300
    scale_out_cooldown = 120
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}
