# MAMcrawler — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test setup migrate lint format bench screenshots clean help

help:
	@echo "make run   - set up (venv, install, migrate, schedules, admin) and run web server + worker"
	@echo "make test  - set up and run the whole test suite (SQLite; DATABASE_URL=postgres://... for PostgreSQL)"
	@echo "make lint  - ruff check + format check"
	@echo "make bench - performance benches (SPEC §12); prints tables, writes bench/results.json"
	@echo "make screenshots - browser tests in headless Chromium; PNGs in docs/screenshots/"

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --disable-pip-version-check --upgrade pip
	$(PIP) install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.txt
	$(PIP) install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

setup: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable
	$(PY) manage.py sync_schedules
	$(PY) manage.py ensure_admin

run: setup
	@echo ""
	@echo "MAMcrawler is starting (Ctrl-C stops the web server and the worker):"
	@echo "  admin          http://$(HOST):$(PORT)/admin/"
	@echo "  API docs       http://$(HOST):$(PORT)/api/docs/"
	@echo "  browsable API  http://$(HOST):$(PORT)/api/v1/"
	@echo ""
	@PY=$(PY) HOST=$(HOST) PORT=$(PORT) bin/run

test: $(VENV)/.installed-test
	$(VENV)/bin/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

screenshots: $(VENV)/.installed-test
	REQUIRE_BROWSER=1 SAVE_SCREENSHOTS=1 $(VENV)/bin/pytest tests/browser -m browser -p no:cacheprovider -q
	@echo "Screenshots: $(CURDIR)/docs/screenshots/"
	@ls -1 docs/screenshots/*.png

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Scan and gap analysis on SQLite; the API under load and the list query counts on SQLite and on
# PostgreSQL (BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres; skipped when
# no server answers); then one summary table. Numbers merge into bench/results.json.
bench: $(VENV)/.installed-test
	@started=$$(date +%s); \
	$(PY) -m bench.scan && \
	$(PY) -m bench.gaps && \
	$(PY) -m bench.load --database sqlite && \
	$(PY) -m bench.load --database sqlite --counters db && \
	$(PY) -m bench.load --database postgresql && \
	$(PY) -m bench.summary --seconds $$(( $$(date +%s) - started ))

format: $(VENV)/.installed-test
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
