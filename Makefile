# The README's quick start: `make demo` and `make test`. Both build .venv on first use.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test check lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/geovec demo demo

lint: $(STAMP)
	$(BIN)/ruff check geovec tests bench

# Every tier: the fast tests, the docstring examples and the slow end-to-end ones.
test: lint
	$(BIN)/pytest -q

# The fast tier for the inner loop: everything but the tests marked slow.
check: lint
	$(BIN)/pytest -q -m "not slow"

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/extract.py

clean:
	rm -rf $(VENV) demo
