# S3: attachments and exports (FINPULSE_STORAGE_BUCKET), audit anchors (Object Lock,
# compliance mode: an anchor cannot be altered or deleted before its retention ends, by anyone)
# and the access-log bucket of the load balancer and of the two others.

locals {
  buckets = {
    attachments   = aws_s3_bucket.attachments.id
    audit_anchors = aws_s3_bucket.audit_anchors.id
    logs          = aws_s3_bucket.logs.id
  }
}

resource "aws_s3_bucket" "attachments" {
  # checkov:skip=CKV_AWS_144:Cross-region replication is a bank-wide DR decision (second region, its own KMS key); versioning and KMS protect objects here.
  # checkov:skip=CKV2_AWS_62:No consumer of object events: FinPulse records every upload and download itself (audit events).
  bucket = "${local.name}-attachments-${local.account_id}"
}

resource "aws_s3_bucket" "audit_anchors" {
  # checkov:skip=CKV_AWS_144:As for attachments; Object Lock retention is the protection that matters for anchors.
  # checkov:skip=CKV2_AWS_62:No consumer of object events; the sealer writes anchors and verify_audit_chain reads them.
  bucket              = "${local.name}-audit-anchors-${local.account_id}"
  object_lock_enabled = true
}

resource "aws_s3_bucket" "logs" {
  # checkov:skip=CKV_AWS_144:Access logs stay in the region they describe.
  # checkov:skip=CKV2_AWS_62:No consumer of object events on access logs.
  # checkov:skip=CKV_AWS_18:This is the access-log bucket; logging it to itself would loop.
  # checkov:skip=CKV_AWS_145:ALB access logs can only be delivered to a bucket encrypted with SSE-S3, not SSE-KMS.
  bucket = "${local.name}-access-logs-${local.account_id}"
}

resource "aws_s3_bucket_object_lock_configuration" "audit_anchors" {
  bucket = aws_s3_bucket.audit_anchors.id
  rule {
    default_retention {
      mode = "COMPLIANCE"
      days = var.audit_anchor_retention_days
    }
  }
}

resource "aws_s3_bucket_public_access_block" "all" {
  for_each                = local.buckets
  bucket                  = each.value
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "all" {
  for_each = local.buckets
  bucket   = each.value
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "all" {
  for_each = local.buckets
  bucket   = each.value
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "kms" {
  for_each = { attachments = aws_s3_bucket.attachments.id, audit_anchors = aws_s3_bucket.audit_anchors.id }
  bucket   = each.value
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.main.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_logging" "data" {
  for_each      = { attachments = aws_s3_bucket.attachments.id, audit_anchors = aws_s3_bucket.audit_anchors.id }
  bucket        = each.value
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "s3/${each.key}/"
}

resource "aws_s3_bucket_lifecycle_configuration" "attachments" {
  bucket = aws_s3_bucket.attachments.id
  rule {
    id     = "old-versions-and-uploads"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 90
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 2
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "audit_anchors" {
  bucket = aws_s3_bucket.audit_anchors.id
  rule {
    id     = "archive"
    status = "Enabled"
    filter {}
    transition {
      days          = 90
      storage_class = "GLACIER_IR"
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 2
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    id     = "expire"
    status = "Enabled"
    filter {}
    expiration {
      days = var.log_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 2
    }
  }
}

data "aws_iam_policy_document" "bucket" {
  for_each = local.buckets

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = ["arn:${local.partition}:s3:::${each.value}", "arn:${local.partition}:s3:::${each.value}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  dynamic "statement" {
    for_each = each.key == "logs" ? [1] : []
    content {
      sid       = "LoadBalancerAccessLogs"
      actions   = ["s3:PutObject"]
      resources = ["arn:${local.partition}:s3:::${each.value}/alb/AWSLogs/${local.account_id}/*"]
      principals {
        type        = "Service"
        identifiers = ["logdelivery.elasticloadbalancing.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = each.key == "logs" ? [1] : []
    content {
      sid       = "S3ServerAccessLogs"
      actions   = ["s3:PutObject"]
      resources = ["arn:${local.partition}:s3:::${each.value}/s3/*"]
      principals {
        type        = "Service"
        identifiers = ["logging.s3.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account_id]
      }
    }
  }
}

resource "aws_s3_bucket_policy" "all" {
  for_each   = local.buckets
  bucket     = each.value
  policy     = data.aws_iam_policy_document.bucket[each.key].json
  depends_on = [aws_s3_bucket_public_access_block.all]
}
