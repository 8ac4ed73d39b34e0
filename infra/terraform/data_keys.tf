# The customers' data keys (FINPULSE_DATA_KEY_STORE=directory, FINPULSE_DATA_KEY_DIR): an EFS
# file system of their own, mounted by every app task. Erasure destroys a customer's key file
# (crypto-shredding, docs/compliance.md), so no copy of this volume may outlive the erasure
# deadline (docs/security.md, "Customers' data keys"): automatic backups are off, it is in no AWS
# Backup plan and has no replication. EFS stores every file redundantly across the region's AZs
# (synchronously), which is the protection against losing a disk or an AZ.

resource "aws_efs_file_system" "data_keys" {
  # checkov:skip=CKV2_AWS_18:On purpose in no AWS Backup plan: a backup would keep erased customers' keys (docs/security.md).
  creation_token   = "${local.name}-data-keys"
  encrypted        = true
  kms_key_id       = aws_kms_key.main.arn
  performance_mode = "generalPurpose"
  throughput_mode  = "elastic"
  tags             = { Name = "${local.name}-data-keys", Backup = "never" }

  # Losing it loses every customer's personal data: never destroyed by an apply.
  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_efs_backup_policy" "data_keys" {
  file_system_id = aws_efs_file_system.data_keys.id
  backup_policy {
    status = "DISABLED"
  }
}

# One mount target per app subnet; only the app tasks reach NFS.
resource "aws_efs_mount_target" "data_keys" {
  count           = length(aws_subnet.app)
  file_system_id  = aws_efs_file_system.data_keys.id
  subnet_id       = aws_subnet.app[count.index].id
  security_groups = [aws_security_group.data_keys.id]
}

resource "aws_security_group" "data_keys" {
  name        = "${local.name}-data-keys"
  description = "EFS of the customers' data keys; NFS from the app tasks only"
  vpc_id      = aws_vpc.main.id
}

resource "aws_vpc_security_group_ingress_rule" "data_keys_from_app" {
  security_group_id            = aws_security_group.data_keys.id
  description                  = "NFS from the app tasks"
  referenced_security_group_id = aws_security_group.app.id
  from_port                    = 2049
  to_port                      = 2049
  ip_protocol                  = "tcp"
}

resource "aws_vpc_security_group_egress_rule" "app_to_data_keys" {
  security_group_id            = aws_security_group.app.id
  description                  = "NFS to the data-key file system"
  referenced_security_group_id = aws_security_group.data_keys.id
  from_port                    = 2049
  to_port                      = 2049
  ip_protocol                  = "tcp"
}

# The tasks see only /data-keys, as the image's user (10001), owner-only.
resource "aws_efs_access_point" "data_keys" {
  file_system_id = aws_efs_file_system.data_keys.id
  posix_user {
    uid = 10001
    gid = 10001
  }
  root_directory {
    path = "/data-keys"
    creation_info {
      owner_uid   = 10001
      owner_gid   = 10001
      permissions = "0700"
    }
  }
}

# Only the app's task role may mount, only through the access point, only over TLS.
resource "aws_efs_file_system_policy" "data_keys" {
  file_system_id = aws_efs_file_system.data_keys.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AppTasksThroughTheAccessPoint"
        Effect    = "Allow"
        Principal = { AWS = aws_iam_role.task.arn }
        Action    = ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]
        Resource  = aws_efs_file_system.data_keys.arn
        Condition = { StringEquals = { "elasticfilesystem:AccessPointArn" = aws_efs_access_point.data_keys.arn } }
      },
      {
        Sid       = "TLSOnly"
        Effect    = "Deny"
        Principal = { AWS = "*" }
        Action    = "*"
        Resource  = aws_efs_file_system.data_keys.arn
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })
}

resource "aws_iam_role_policy" "task_data_keys" {
  name = "finpulse-data-keys"
  role = aws_iam_role.task.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "MountTheDataKeyVolume"
      Effect    = "Allow"
      Action    = ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]
      Resource  = [aws_efs_file_system.data_keys.arn]
      Condition = { StringEquals = { "elasticfilesystem:AccessPointArn" = aws_efs_access_point.data_keys.arn } }
    }]
  })
}
