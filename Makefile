# The entry points developers and CI share: `make serve`, `make test` (and `make smoke`,
# the installed wheel tried outside the checkout).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: serve test lint install smoke

# serving needs only mailbot's own dependencies; the tests add theirs on top
$(VENV)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed-test

serve: $(VENV)/.installed
	$(BIN)/mailbot serve -c config.example.toml

lint: install
	$(BIN)/ruff check mailbot tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

test: lint
	$(BIN)/pytest -q -n 2

smoke: $(VENV)/.installed
	rm -rf dist && $(BIN)/pip wheel -q --no-deps -w dist .
	$(PY) .ci/smoke_wheel.py dist/mailbot-*.whl
