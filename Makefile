# Two commands matter on a fresh machine: `make run` and `make test` (see README).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: setup run chat test soak lint format typecheck diagram bench clean

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

setup: $(BIN)/.installed  ## create .venv and install the bot and its tools

run: setup  ## run the bot (long polling); without a token it explains how to get one
	$(BIN)/iep-bot db migrate
	$(BIN)/iep-bot run

chat: setup  ## try the screening in the terminal, no Telegram needed
	$(BIN)/iep-bot chat

test: setup lint typecheck  ## every check and every test (the content check is a test too)
	$(BIN)/pytest

soak: setup  ## the long runs: kill -9 and fuzz with many more kills, parents and updates
	$(BIN)/pytest -m soak -s tests/test_kill.py tests/test_fuzz.py tests/test_followup_restart.py

lint: setup
	$(BIN)/ruff check bot flows tests bench
	$(BIN)/ruff format --check bot flows tests bench

format: setup
	$(BIN)/ruff format bot flows tests bench
	$(BIN)/ruff check --fix bot flows tests bench

typecheck: setup
	$(BIN)/mypy

diagram: setup  ## regenerate flows/screening.mmd after changing content/screening.yaml
	$(BIN)/iep-bot flow diagram --write

bench: setup  ## benchmarks (not tests): each prints ratios measured in one run
	for script in bench/*_bench.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
