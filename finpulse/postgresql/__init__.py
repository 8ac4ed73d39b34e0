"""Django's PostgreSQL backend with a cheaper health check (finpulse/postgresql/base.py, decision 184)."""
