# FinPulse: `make run` serves the app with its worker and beat; `make test` runs the suite.
# Both set everything up on a bare machine (virtualenv, dependencies, embedded PostgreSQL).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
export DJANGO_SETTINGS_MODULE := finpulse.settings

.PHONY: run test setup install migrate seed lint layers types format smoke test-fast browser-deps node-deps bench stop-db lock clean \
	infra-tools infra-lint container-smoke container-bench

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable

setup: migrate

seed: migrate
	$(PY) manage.py seed_demo

# Links in emails point where `make run` serves: FINPULSE_SITE_URL follows FINPULSE_BIND
# (0.0.0.0 listens everywhere and is opened as 127.0.0.1); set either to override.
# The demo runs as the bank would see it: DEBUG off (styled 404/500, no URL list); whitenoise
# serves the collected static files. DJANGO_DEBUG=1 make run brings the debug pages back.
run: export DJANGO_DEBUG ?= 0
run: export FINPULSE_BIND ?= 127.0.0.1:8000
run: export FINPULSE_SITE_URL ?= http://$(subst 0.0.0.0,127.0.0.1,$(FINPULSE_BIND))
run: seed
	$(PY) manage.py collectstatic --noinput -v 0
	$(VENV)/bin/honcho start -f Procfile

# Debian's Chromium for the browser tests (Playwright cannot download its own here).
browser-deps:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = "0" ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else echo "Chromium is missing: install Debian's chromium package (browser tests will skip)"; fi; }

# Node packages for the test OIDC provider.
node-deps:
	@if [ -f tests/oidc_provider/package.json ]; then cd tests/oidc_provider && { test -d node_modules || npm ci --silent --no-audit --no-fund; }; fi

lint: install layers
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/bandit -q -c pyproject.toml -r apps finpulse

# Import contracts (pyproject.toml [tool.importlinter]): core imports no other app, the layers
# go one way, and no app imports another app's views or admin. A new back-arrow fails here.
layers: install
	PYTHONPATH=. $(VENV)/bin/lint-imports --no-cache

# mypy with django-stubs over every service and selector, the one-home modules and the REST
# API's views (pyproject.toml [tool.mypy]): who calls a service with what is checked, not guessed.
types: install
	PYTHONPATH=. $(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The suite in TEST_WORKERS processes (pytest-xdist; each has its own test database): the two
# cores run it in about half the time. TEST_WORKERS=0 runs it in this process.
TEST_WORKERS ?= 2
test: lint types migrate browser-deps node-deps
	$(PY) -m pytest -n $(TEST_WORKERS)

# The short run on the embedded PostgreSQL (what .ci/run does besides the full suite):
# migrations, then the core tests (encryption, audit chain, selectors, services).
smoke: migrate
	$(PY) -m pytest -q -p no:cacheprovider tests/core tests/customers/test_selectors.py tests/customers/test_services.py tests/test_url_permission_matrix.py

# Deployment code (infra/, docs/deploy.md). Nothing here is needed by `make run` or `make test`.
# checkov, moto and podman-compose conflict with the project's pins: their own venv under var/.
TOOLS_VENV := var/tools-venv
$(TOOLS_VENV)/.installed-stamp: infra/tools-requirements.txt
	test -x $(TOOLS_VENV)/bin/python || $(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/pip install -q --disable-pip-version-check -r infra/tools-requirements.txt
	touch $@

infra-tools: $(TOOLS_VENV)/.installed-stamp

# hadolint, terraform fmt/validate, checkov, compose config.
infra-lint: install infra-tools
	infra/lint.sh

# Builds the image with podman (Debian base from debootstrap, cached in var/) and runs the
# container smoke test against this machine's PostgreSQL, Redis and RabbitMQ (as root).
container-smoke: install infra-tools
	infra/smoke/run.sh

container-bench: install infra-tools
	$(TOOLS_VENV)/bin/python benchmarks/containers_bench.py

bench: migrate
	$(PY) -m benchmarks.run_all

stop-db:
	$(PY) -m finpulse.embedded_db stop

lock:
	$(VENV)/bin/pip-compile -q --strip-extras requirements.in -o requirements.txt
	$(VENV)/bin/pip-compile -q --strip-extras requirements-dev.in -o requirements-dev.txt

clean: stop-db
	rm -rf var/ $(VENV)
