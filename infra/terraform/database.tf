# RDS PostgreSQL: Multi-AZ primary (synchronous standby in another AZ) and one asynchronous
# read replica for lists, reports and exports (DATABASE_REPLICA_URL).
# RPO: Multi-AZ loses nothing on an instance or AZ failure; point-in-time recovery from the
# automated backups restores to any second in the retention window up to the last uploaded
# transaction log, which RDS ships every 5 minutes: RPO <= 5 minutes for a regional restore.

resource "aws_db_subnet_group" "main" {
  name       = local.name
  subnet_ids = aws_subnet.data[*].id
}

resource "aws_db_parameter_group" "postgres" {
  name   = "${local.name}-pg15"
  family = "postgres15"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }
  # Statements slower than 1 s are logged (text only; PII columns are encrypted in the app).
  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }
  parameter {
    name  = "log_connections"
    value = "1"
  }
  parameter {
    name  = "log_disconnections"
    value = "1"
  }
  parameter {
    name  = "log_lock_waits"
    value = "1"
  }
  # Queries on the replica may be cancelled by replay; reports would rather wait a little.
  parameter {
    name  = "max_standby_streaming_delay"
    value = "30000"
  }
  parameter {
    name         = "shared_preload_libraries"
    value        = "pg_stat_statements"
    apply_method = "pending-reboot"
  }
}

# Master password: generated at apply, written only to Secrets Manager and RDS (write-only
# attributes), never to the Terraform state. Bump db_password_version to rotate.
ephemeral "aws_secretsmanager_random_password" "db" {
  password_length     = 40
  exclude_punctuation = true
}

locals {
  db_password_version = 1
  db_username         = "finpulse"
  db_name             = "finpulse"
}

resource "aws_db_instance" "primary" {
  # checkov:skip=CKV2_AWS_30:Query logging is configured in the parameter group (slow statements, connections, lock waits); logging every statement would write customer data into logs.
  identifier                          = local.name
  engine                              = "postgres"
  engine_version                      = var.db_engine_version
  instance_class                      = var.db_instance_class
  db_name                             = local.db_name
  username                            = local.db_username
  password_wo                         = ephemeral.aws_secretsmanager_random_password.db.random_password
  password_wo_version                 = local.db_password_version
  port                                = 5432
  multi_az                            = true
  db_subnet_group_name                = aws_db_subnet_group.main.name
  vpc_security_group_ids              = [aws_security_group.data.id]
  parameter_group_name                = aws_db_parameter_group.postgres.name
  publicly_accessible                 = false
  allocated_storage                   = var.db_allocated_storage
  max_allocated_storage               = var.db_max_allocated_storage
  storage_type                        = "gp3"
  storage_encrypted                   = true
  kms_key_id                          = aws_kms_key.main.arn
  iam_database_authentication_enabled = true
  backup_retention_period             = var.db_backup_retention_days
  backup_window                       = "01:00-02:00"
  maintenance_window                  = "sun:03:00-sun:04:00"
  copy_tags_to_snapshot               = true
  deletion_protection                 = true
  skip_final_snapshot                 = false
  final_snapshot_identifier           = "${local.name}-final"
  auto_minor_version_upgrade          = true
  performance_insights_enabled        = true
  performance_insights_kms_key_id     = aws_kms_key.main.arn
  monitoring_interval                 = 30
  monitoring_role_arn                 = aws_iam_role.rds_monitoring.arn
  enabled_cloudwatch_logs_exports     = ["postgresql", "upgrade"]
  apply_immediately                   = false
}

resource "aws_db_instance" "replica" {
  # checkov:skip=CKV2_AWS_30:As for the primary: slow statements only, no full statement logging.
  # checkov:skip=CKV_AWS_157:The replica is a single-AZ read scaler; the primary is Multi-AZ and a lost replica is recreated while reads fall back to the primary (docs/deploy.md).
  identifier                          = "${local.name}-replica"
  replicate_source_db                 = aws_db_instance.primary.identifier
  instance_class                      = var.db_replica_instance_class
  multi_az                            = false
  vpc_security_group_ids              = [aws_security_group.data.id]
  parameter_group_name                = aws_db_parameter_group.postgres.name
  publicly_accessible                 = false
  storage_encrypted                   = true
  kms_key_id                          = aws_kms_key.main.arn
  iam_database_authentication_enabled = true
  backup_retention_period             = 7 # lets the replica be promoted with backups already on
  copy_tags_to_snapshot               = true
  deletion_protection                 = true
  skip_final_snapshot                 = true
  auto_minor_version_upgrade          = true
  performance_insights_enabled        = true
  performance_insights_kms_key_id     = aws_kms_key.main.arn
  monitoring_interval                 = 30
  monitoring_role_arn                 = aws_iam_role.rds_monitoring.arn
  enabled_cloudwatch_logs_exports     = ["postgresql"]
  apply_immediately                   = false
}

resource "aws_iam_role" "rds_monitoring" {
  name = "${local.name}-rds-monitoring"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "monitoring.rds.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "rds_monitoring" {
  role       = aws_iam_role.rds_monitoring.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}
