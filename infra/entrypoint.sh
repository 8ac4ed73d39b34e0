#!/bin/bash
# FinPulse container entrypoint: one image, five roles (docs/deploy.md).
#   web      gunicorn (config/gunicorn.conf.py; FINPULSE_BIND, WEB_CONCURRENCY, WEB_THREADS)
#   worker   Celery worker (CELERY_CONCURRENCY, default 2)
#   beat     Celery beat (exactly one per environment; its lease in core_lease guards against two)
#   capture  the email capture SMTP endpoint (manage.py run_email_capture) on FINPULSE_CAPTURE_BIND,
#            default 0.0.0.0:2525; only FINPULSE_CAPTURE_ALLOWED_PEERS (the bank's relay) may deliver
#   migrate  one-off: migrations and the cache table, before new web containers start;
#            FINPULSE_SEED_DEMO=1 also loads the demo bank (never in production)
#   manage   any manage.py command, e.g. `manage verify_audit_chain`
# The process is exec'd so SIGTERM reaches gunicorn/Celery directly (graceful drain).
set -euo pipefail
cd /app

# On ECS (infra/terraform) the URLs are assembled here from endpoints (plain environment) and
# credentials (Secrets Manager), so no secret ever sits in a task definition. A URL that is
# already set wins, which is how compose and the smoke test pass theirs.
eval "$(python3 - <<'PY'
import os
import shlex
from urllib.parse import quote

env = os.environ
out = {}


def cred(user, password):
    return f"{quote(env[user], safe='')}:{quote(env[password], safe='')}@"


if not env.get("DATABASE_URL") and env.get("DATABASE_HOST"):
    port, name = env.get("DATABASE_PORT", "5432"), env.get("DATABASE_NAME", "finpulse")
    auth = cred("DATABASE_USER", "DATABASE_PASSWORD")
    query = f"?sslmode={env['DATABASE_SSLMODE']}" if env.get("DATABASE_SSLMODE") else ""
    out["DATABASE_URL"] = f"postgres://{auth}{env['DATABASE_HOST']}:{port}/{name}{query}"
    if env.get("DATABASE_REPLICA_HOST") and not env.get("DATABASE_REPLICA_URL"):
        out["DATABASE_REPLICA_URL"] = f"postgres://{auth}{env['DATABASE_REPLICA_HOST']}:{port}/{name}{query}"
if not env.get("REDIS_URL") and env.get("REDIS_HOST"):
    token = f":{quote(env['REDIS_AUTH_TOKEN'], safe='')}@" if env.get("REDIS_AUTH_TOKEN") else ""
    out["REDIS_URL"] = f"rediss://{token}{env['REDIS_HOST']}:{env.get('REDIS_PORT', '6379')}/0"
if not env.get("CELERY_BROKER_URL") and env.get("MQ_ENDPOINT"):
    scheme, _, hostport = env["MQ_ENDPOINT"].partition("://")
    out["CELERY_BROKER_URL"] = f"{scheme}://{cred('MQ_USER', 'MQ_PASSWORD')}{hostport}//"
for key, value in out.items():
    print(f"export {key}={shlex.quote(value)}")
PY
)"

if [[ -z "${DATABASE_URL:-}" ]]; then
  echo "entrypoint: DATABASE_URL is required in the container (the embedded PostgreSQL is not in the image)" >&2
  exit 64
fi

role="${1:-web}"
shift || true
case "$role" in
  web)
    # No control socket: nothing manages gunicorn from inside a container.
    exec gunicorn finpulse.wsgi:application -c config/gunicorn.conf.py --no-control-socket "$@"
    ;;
  worker)
    exec celery -A finpulse worker --loglevel="${LOG_LEVEL:-INFO}" --concurrency="${CELERY_CONCURRENCY:-2}" "$@"
    ;;
  beat)
    exec celery -A finpulse beat --loglevel="${LOG_LEVEL:-INFO}" "$@"
    ;;
  capture)
    exec python manage.py run_email_capture --bind "${FINPULSE_CAPTURE_BIND:-0.0.0.0:2525}" "$@"
    ;;
  migrate)
    python manage.py migrate --noinput
    python manage.py createcachetable
    if [[ "${FINPULSE_SEED_DEMO:-}" == "1" ]]; then
      python manage.py seed_demo
    fi
    ;;
  manage)
    exec python manage.py "$@"
    ;;
  *)
    echo "usage: entrypoint.sh web|worker|beat|capture|migrate|manage <command> (got: $role)" >&2
    exit 64
    ;;
esac
