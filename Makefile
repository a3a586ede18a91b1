# Two commands on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements/*.txt | sha256sum | cut -c1-12)

.PHONY: install run test lint format check-migrations ci clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found; set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python requirements/base.txt requirements/prod.txt requirements/dev.txt
	$(BIN)/pip install --quiet -r requirements/dev.txt
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

# Web server, Celery worker and beat on the embedded defaults; Ctrl-C stops all three.
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_catalog
	$(BIN)/python manage.py demo_setup
	$(BIN)/python manage.py send_due_reminders
	@echo "Starting web (http://127.0.0.1:$${WEB_PORT:-8000}/api/docs/), worker and beat; Ctrl-C stops all three."
	DEBUG=$${DEBUG:-true} $(BIN)/honcho -f Procfile.dev start

test: install
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check-migrations: install
	$(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var
