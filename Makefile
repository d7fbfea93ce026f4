# The README's quick start: `make demo` and `make test`. Both build .venv on first use.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test check lint bench clean gdal-tools chromium leaflet

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,ray,serve,onnx]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/geovec demo demo

lint: $(STAMP)
	$(BIN)/ruff check geovec tests bench

# Every tier: the fast tests, the docstring examples and the slow end-to-end ones.
test: lint gdal-tools chromium
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

# Debian's Chromium for the explorer's browser tests (driven by playwright, no download);
# without it those tests are skipped, with the reason.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the explorer's browser tests"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium >/dev/null; } \
	  || echo "warning: chromium is not installed; the browser tests will be skipped"

# Leaflet as shipped in geovec/explorer/static/leaflet: refreshed from the npm registry,
# checked against the registry's sha512 (only needed to change Leaflet's version).
LEAFLET := 1.9.4
leaflet:
	cd /tmp && npm pack --silent leaflet@$(LEAFLET) >/dev/null && \
	  test "$$(npm view leaflet@$(LEAFLET) dist.integrity)" = \
	       "sha512-$$(openssl dgst -sha512 -binary leaflet-$(LEAFLET).tgz | base64 -w0)" && \
	  rm -rf package && tar xzf leaflet-$(LEAFLET).tgz
	cp /tmp/package/dist/leaflet.js /tmp/package/dist/leaflet.css /tmp/package/LICENSE \
	  /tmp/package/package.json geovec/explorer/static/leaflet/
	cp /tmp/package/dist/images/* geovec/explorer/static/leaflet/images/

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,ray,serve,onnx,bench]'
	$(BIN)/python bench/extract.py

clean:
	rm -rf $(VENV) demo
