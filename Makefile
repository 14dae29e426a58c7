# The two commands a newcomer needs: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
FAKE_STRIPE_PORT ?= 12111
STAMP := $(VENV)/.installed
# The fake Stripe signs its webhooks with the secret the example settings expect.
FAKE_STRIPE_WEBHOOK_SECRET := whsec_fake_stripe_demo

.PHONY: demo test test-postgres e2e lint bench load worker install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e . --group dev
	touch $(STAMP)

install: $(STAMP)

# The example site on SQLite at http://127.0.0.1:$(PORT). Without STRIPE_TEST_SECRET_KEY
# (or STRIPE_LIVE_SECRET_KEY) in the environment, a fake Stripe runs alongside it and
# stops with the server.
demo: $(STAMP)
	@set -euo pipefail; \
	cd example_project; \
	python=../$(BIN)/python; \
	export SITE_URL="$${SITE_URL:-http://127.0.0.1:$(PORT)}"; \
	if [ -z "$${STRIPE_TEST_SECRET_KEY:-}$${STRIPE_LIVE_SECRET_KEY:-}" ]; then \
		export STRIPE_API_BASE=http://127.0.0.1:$(FAKE_STRIPE_PORT); \
		$$python -m payments.testing.fake_stripe --port $(FAKE_STRIPE_PORT) \
			--webhook-url http://127.0.0.1:$(PORT)/payments/checkout/webhook/ \
			--webhook-secret $(FAKE_STRIPE_WEBHOOK_SECRET) & \
		fake=$$!; \
		trap 'kill $$fake 2>/dev/null || true' EXIT INT TERM; \
		for _ in $$(seq 100); do \
			(exec 3<>/dev/tcp/127.0.0.1/$(FAKE_STRIPE_PORT)) 2>/dev/null && break; \
			kill -0 $$fake 2>/dev/null || { echo "fake Stripe did not start (port $(FAKE_STRIPE_PORT) taken?)" >&2; exit 1; }; \
			sleep 0.1; \
		done; \
		echo "Fake Stripe at $$STRIPE_API_BASE (no STRIPE_TEST_SECRET_KEY set)"; \
	fi; \
	$$python manage.py migrate --noinput; \
	$$python manage.py seed_demo; \
	$$python manage.py runserver 127.0.0.1:$(PORT)

test: $(STAMP)
	env -u DATABASE_URL -u PAYMENTS_REQUIRE_POSTGRES $(BIN)/python -m pytest

test-postgres: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test} \
	PAYMENTS_REQUIRE_POSTGRES=1 $(BIN)/python -m pytest

# The buyer's flows in headless Chromium (Debian's, never a downloaded one) against
# the example site and the fake Stripe; screenshots of every step in e2e/screenshots/.
e2e: $(STAMP)
	env -u DATABASE_URL -u PAYMENTS_REQUIRE_POSTGRES $(BIN)/python -m pytest e2e \
		--ds=e2e.settings -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# First the benchmarks' smoke test (tiny sizes: they still run), then the benchmarks.
bench: $(STAMP)
	$(BIN)/python -m pytest -q -m bench tests/test_benchmarks.py
	$(BIN)/python -m benchmarks

# The example site under load: gunicorn on PostgreSQL with a django-tasks-db worker,
# about 20 s of signed webhook events at concurrency 16, against a floor view, then
# an integrity check. LOAD_DATABASE_URL names a database it may drop and recreate.
LOAD_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/payments_load
load: $(STAMP)
	LOAD_DATABASE_URL=$(LOAD_DATABASE_URL) $(BIN)/python -m benchmarks.load

# A task worker for the example site (TASKS_BACKEND=db: django-tasks-db's queue in
# its database). Run it next to `TASKS_BACKEND=db make demo`.
worker: $(STAMP)
	cd example_project && TASKS_BACKEND=db ../$(BIN)/python manage.py migrate --noinput \
		&& TASKS_BACKEND=db ../$(BIN)/python manage.py db_worker

clean:
	rm -rf $(VENV) .pytest_cache .tox build dist *.egg-info
