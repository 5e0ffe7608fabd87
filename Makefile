# Two commands for a fresh machine with only Python: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PIP := $(BIN)/python -m pip

.PHONY: demo test lint install claims notebooks notebooks-open browser bench clean

$(STAMP): pyproject.toml constraints.txt
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt -e '.[dev,lab,notebooks]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/reti demo

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not notebooks and not browser"

# Longer checks, each its own target (CI runs them all): every notebook top to bottom (nbclient),
# and the lab in a real browser (Debian chromium through Playwright; skips loudly without it).
notebooks: $(STAMP)
	$(BIN)/python -m pytest -p no:xdist -m notebooks

# Open the notebooks in JupyterLab (the notebooks extra); a pip-installed reti uses
# `reti notebooks DIR --open` instead, which copies them out of the package first.
notebooks-open: $(STAMP)
	$(BIN)/jupyter lab notebooks

# Screenshots of every lab page (English and Italian, 1280x800 and 390x844) go to
# $(RETI_ARTIFACTS)/lab/, outside git (runs/ is ignored).
RETI_ARTIFACTS ?= runs/artifacts
browser: $(STAMP)
	RETI_ARTIFACTS=$(RETI_ARTIFACTS) $(BIN)/python -m pytest -p no:xdist -m browser

lint: $(STAMP)
	$(BIN)/ruff check reti tests bench
	$(BIN)/ruff format --check reti tests bench

claims: $(STAMP)
	$(BIN)/reti claims run --quick --out runs/claims/ci

bench: $(STAMP)
	$(PIP) install -q -c constraints.txt -e '.[dev,lab,notebooks,bench]'
	for f in bench/*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
