#!/bin/bash
# FinPulse container entrypoint: one image, four roles (docs/deploy.md).
#   web      gunicorn (config/gunicorn.conf.py; FINPULSE_BIND, WEB_CONCURRENCY, WEB_THREADS)
#   worker   Celery worker (CELERY_CONCURRENCY, default 2)
#   beat     Celery beat (exactly one per environment; its advisory lock guards against two)
#   migrate  one-off: migrations and the cache table, before new web containers start;
#            FINPULSE_SEED_DEMO=1 also loads the demo bank (never in production)
#   manage   any manage.py command, e.g. `manage verify_audit_chain`
# The process is exec'd so SIGTERM reaches gunicorn/Celery directly (graceful drain).
set -euo pipefail
cd /app

if [[ -z "${DATABASE_URL:-}" ]]; then
  echo "entrypoint: DATABASE_URL is required in the container (the embedded PostgreSQL is not in the image)" >&2
  exit 64
fi

role="${1:-web}"
shift || true
case "$role" in
  web)
    exec gunicorn finpulse.wsgi:application -c config/gunicorn.conf.py "$@"
    ;;
  worker)
    exec celery -A finpulse worker --loglevel="${LOG_LEVEL:-INFO}" --concurrency="${CELERY_CONCURRENCY:-2}" "$@"
    ;;
  beat)
    exec celery -A finpulse beat --loglevel="${LOG_LEVEL:-INFO}" "$@"
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
    echo "usage: entrypoint.sh web|worker|beat|migrate|manage <command> (got: $role)" >&2
    exit 64
    ;;
esac
