# Townhall: `make run` to serve the demo council, `make test` to run every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
STAMPS := .make-stamps

.PHONY: run test test-unit test-browser install assets migrate demo lint check bench clean chromium

$(STAMPS):
	@mkdir -p $(STAMPS)

# Python dependencies, re-installed when pyproject.toml changes.
$(STAMPS)/venv: pyproject.toml | $(STAMPS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	@touch $@

# Front-end packages (GOV.UK Frontend, Sass, axe-core), re-installed when package.json changes.
$(STAMPS)/npm: package.json | $(STAMPS)
	npm install --no-audit --no-fund --loglevel=error
	@touch $@

install: $(STAMPS)/venv $(STAMPS)/npm

assets: $(STAMPS)/npm
	@mkdir -p static/css static/govuk
	npx --no-install sass --quiet --no-source-map --style=compressed --load-path=node_modules \
		static_src/scss/townhall.scss static/css/townhall.css
	cp node_modules/govuk-frontend/dist/govuk/all.bundle.js static/govuk/govuk-frontend.bundle.js
	# The bundle ends with a sourceMappingURL comment: the manifest storage of production settings
	# rewrites it and fails collectstatic unless the map it names sits beside the bundle.
	cp node_modules/govuk-frontend/dist/govuk/all.bundle.js.map static/govuk/all.bundle.js.map
	rm -rf static/govuk/assets && cp -r node_modules/govuk-frontend/dist/govuk/assets static/govuk/assets

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py seed_demo

run: install assets migrate
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	@echo
	@echo "Townhall is running at http://$(HOST):$(PORT)/ with one background worker  (Ctrl+C stops both)"
	@$(BIN)/python manage.py townhall_worker & worker=$$!; \
		trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
		$(BIN)/daphne -b $(HOST) -p $(PORT) config.asgi:application

# The browser journeys need Debian's chromium: installed when missing (as root, or with sudo), or
# make stops here with a one-line instruction, before installing or running anything.
chromium:
	@scripts/ensure_chromium.sh

# Unit, service and websocket tests first; then browser journeys in their own process
# (Playwright's sync API and async tests do not share a process well).
test: chromium install assets
	$(BIN)/python -m pytest -m "not browser" -q
	$(BIN)/python -m pytest -m browser -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

check: install
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.production SECRET_KEY=$$(head -c 48 /dev/urandom | base64) \
		ALLOWED_HOSTS=townhall.example.org $(BIN)/python manage.py check --deploy --fail-level WARNING

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) node_modules $(STAMPS) staticfiles static/css/townhall.css static/govuk
