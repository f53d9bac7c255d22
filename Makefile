# Two commands on a fresh machine with Python 3.11 and pip:
#   make run   install into .venv, migrate the embedded SQLite database, load the demo, serve on :8000
#   make test  install with the dev extras and run the whole test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test install install-dev lint bench clean messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/stint db upgrade
	$(BIN)/stint demo
	$(BIN)/stint serve --host $(HOST) --port $(PORT)

# Three worker processes on the CI machine's 2 cores: much of the suite waits on other
# processes (PostgreSQL, Redis, Chromium, served apps, Celery), so a third keeps the cores
# busy (the suite outgrew 20 minutes with two). A file's tests stay on one worker, so
# module-scoped servers and browsers are started once.
PYTEST_WORKERS ?= 3

test: install-dev
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo

# Translations (docs/pages.md, "Languages"): extract every marked string from the templates and
# the Python sources (babel.cfg), merge them into each language's catalogue, compile the .mo
# files the app reads. Commit the .pot, .po and .mo together; new msgids show up untranslated
# in the .po (and the catalogue-completeness test fails until they are translated).
LOCALES_DIR := plugins/i18n/locale
MSG_KEYWORDS := --no-default-keywords -k _ -k gettext -k ngettext:1,2 -k tr -k plural:1,2 -k N_

messages: install-dev
	$(BIN)/pybabel extract -F babel.cfg $(MSG_KEYWORDS) --no-location --omit-header --sort-output \
		-o $(LOCALES_DIR)/messages.pot .
	$(BIN)/pybabel update -i $(LOCALES_DIR)/messages.pot -d $(LOCALES_DIR) \
		--no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d $(LOCALES_DIR) --statistics

bench: install-dev
	$(BIN)/python bench/proration.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
