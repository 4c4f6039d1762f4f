# The two entry points developers and CI share: `make serve` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: serve test lint install

$(BIN)/mailbot: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(BIN)/mailbot

install: $(BIN)/mailbot

serve: install
	$(BIN)/mailbot serve -c config.example.toml

lint: install
	$(BIN)/ruff check mailbot tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

test: lint
	$(BIN)/pytest -q
