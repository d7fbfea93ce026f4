# The README's quick start: `make demo` and `make test`. Both build .venv on first use.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test check lint bench clean gdal-tools

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,ray,serve]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/geovec demo demo

lint: $(STAMP)
	$(BIN)/ruff check geovec tests bench

# Every tier: the fast tests, the docstring examples and the slow end-to-end ones.
test: lint gdal-tools
	$(BIN)/pytest -q

# The fast tier for the inner loop: everything but the tests marked slow.
check: lint
	$(BIN)/pytest -q -m "not slow"

# gdal2tiles.py (Debian's gdal-bin) writes the tile folders that the aerial tests read;
# without it those tests are skipped, with the reason.
gdal-tools:
	@command -v gdal2tiles.py >/dev/null 2>&1 || { \
	  echo "installing Debian's gdal-bin (gdal2tiles.py) for the tile-folder tests"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq gdal-bin >/dev/null; } \
	  || echo "warning: gdal-bin is not installed; the tile-folder tests will be skipped"

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,ray,serve,bench]'
	$(BIN)/python bench/extract.py

clean:
	rm -rf $(VENV) demo
