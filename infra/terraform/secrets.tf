# Secrets Manager holds every secret; ECS injects them into the containers at start (the
# task execution role reads them), so none is in the image, the task definition or the logs.
#   <env>/database   username, password (the RDS master; written only through write-only args)
#   <env>/app        DJANGO_SECRET_KEY, CRYPTOGRAPHY_KEY, BLIND_INDEX_KEY (generated once)
#   <env>/metrics    FINPULSE_METRICS_TOKEN: the bearer token Prometheus sends to /metrics
#   <env>/redis      auth token;  <env>/rabbitmq  username, password
#   <env>/external   EMAIL_URL, OIDC_RP_CLIENT_SECRET, OPENAI_API_KEY: set by the operator
# Losing CRYPTOGRAPHY_KEY loses every encrypted PII field: secrets keep a 30-day recovery
# window, and docs/deploy.md says how to export the app secret to the bank's key escrow.

locals {
  # NEVER bump app_secret_version after the first apply: it would generate a new
  # CRYPTOGRAPHY_KEY and BLIND_INDEX_KEY and every encrypted field would become unreadable.
  # Keys are rotated as docs/security.md says (CRYPTOGRAPHY_OLD_KEYS + rotate_encryption_key).
  app_secret_version     = 1
  metrics_secret_version = 1 # bump to rotate the scrape token (then update the scraper)
  secrets = {
    database = "Master credentials of the RDS primary (replica shares them)"
    app      = "Django secret key, PII encryption key and blind-index key"
    metrics  = "Bearer token for /metrics (Prometheus scraper)"
    redis    = "ElastiCache auth token"
    rabbitmq = "Amazon MQ user"
    external = "SMTP URL, OIDC client secret, LLM API key (set by the operator)"
  }
}

resource "aws_secretsmanager_secret" "all" {
  # checkov:skip=CKV2_AWS_57:No automatic rotation: rotating these needs a coordinated rolling restart (and for CRYPTOGRAPHY_KEY the re-encrypt command); docs/deploy.md gives the manual rotation for each.
  for_each                = local.secrets
  name                    = "${local.name}/${each.key}"
  description             = each.value
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = 30
}

resource "aws_secretsmanager_secret_version" "database" {
  secret_id = aws_secretsmanager_secret.all["database"].id
  secret_string_wo = jsonencode({
    username = local.db_username
    password = ephemeral.aws_secretsmanager_random_password.db.random_password
  })
  secret_string_wo_version = local.db_password_version
}

ephemeral "aws_secretsmanager_random_password" "app" {
  for_each            = toset(["DJANGO_SECRET_KEY", "CRYPTOGRAPHY_KEY", "BLIND_INDEX_KEY"])
  password_length     = 64
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret_version" "app" {
  secret_id                = aws_secretsmanager_secret.all["app"].id
  secret_string_wo         = jsonencode({ for k, v in ephemeral.aws_secretsmanager_random_password.app : k => v.random_password })
  secret_string_wo_version = local.app_secret_version
}

ephemeral "aws_secretsmanager_random_password" "metrics" {
  password_length     = 48
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret_version" "metrics" {
  secret_id                = aws_secretsmanager_secret.all["metrics"].id
  secret_string_wo         = jsonencode({ FINPULSE_METRICS_TOKEN = ephemeral.aws_secretsmanager_random_password.metrics.random_password })
  secret_string_wo_version = local.metrics_secret_version
}

resource "aws_secretsmanager_secret_version" "redis" {
  secret_id     = aws_secretsmanager_secret.all["redis"].id
  secret_string = jsonencode({ auth_token = data.aws_secretsmanager_random_password.redis.random_password })
  lifecycle {
    ignore_changes = [secret_string]
  }
}

resource "aws_secretsmanager_secret_version" "rabbitmq" {
  secret_id = aws_secretsmanager_secret.all["rabbitmq"].id
  secret_string = jsonencode({
    username = "finpulse"
    password = data.aws_secretsmanager_random_password.mq.random_password
  })
  lifecycle {
    ignore_changes = [secret_string]
  }
}

# Placeholder values so tasks can start; the operator puts the real ones (docs/deploy.md).
resource "aws_secretsmanager_secret_version" "external" {
  secret_id     = aws_secretsmanager_secret.all["external"].id
  secret_string = jsonencode({ EMAIL_URL = "", OIDC_RP_CLIENT_SECRET = "", OPENAI_API_KEY = "" })
  lifecycle {
    ignore_changes = [secret_string]
  }
}
