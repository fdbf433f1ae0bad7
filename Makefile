# Every target builds (or reuses) .venv. `make demo` installs only the package and what it needs;
# `make test`, `make lab` and the rest add the dev and notebook extras. Each layer is reinstalled
# only when pyproject.toml changes.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
CORE   := $(VENV)/.installed-core
STAMP  := $(VENV)/.installed

.PHONY: install demo test test-fast bench bench-big lint notebooks lab docs clean distclean

install: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(CORE): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(STAMP): $(CORE)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $@

# sample -> validate -> local server -> send -> what the server stored; no key or network needed
demo: $(CORE)
	$(VENV)/bin/adrop-kit demo --rows 5000 --seed 7 --out sample/events.jsonl

# everything: the architecture and style checks, then the whole suite (browser and notebooks included);
# the 25 slowest tests are listed at the end, so a CI log shows where the time goes. The suite runs on
# WORKERS pytest-xdist processes (the Spark session's tests together on one: tests/conftest.py);
# `make test WORKERS=0` runs it in this one process.
WORKERS ?= 2
XDIST   := $(if $(filter 0,$(WORKERS)),,-n $(WORKERS) --dist loadgroup)
test: lint
	$(PY) -m pytest $(XDIST) --durations=25

# the fast tier while developing: no Spark, browser or notebook execution, no kill -9 runs, and a fifth
# of each property test's hypothesis examples (the "fast" profile of tests/conftest.py)
test-fast: $(STAMP)
	$(PY) -m pytest $(XDIST) -m "not slow" --hypothesis-profile=fast

bench: $(STAMP)
	$(PY) benchmarks/validate.py
	$(PY) benchmarks/send.py
	$(PY) benchmarks/strategies.py
	$(PY) benchmarks/inputs.py

# the long ones (tens of minutes, ~4 GB of temporary disk): 20M-row JSONL in bounded memory, Spark local[2]
bench-big: $(STAMP)
	$(PY) benchmarks/stream.py
	$(PY) benchmarks/spark.py

# the docs site (MkDocs + Material) into site/; the rules and CLI references are generated from the code
# (docs/hooks.py); --strict: a broken link or a page left out of the nav fails the build
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

# ruff, plus the layers / no-cycles / private-modules contracts of pyproject.toml (import-linter)
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# notebooks/*.py (jupytext py:percent) are the source of truth: regenerate the paired .ipynb, clean.
# The second --sync only brings the .py timestamps back after nbconvert (JupyterLab compares them).
notebooks: $(STAMP)
	$(VENV)/bin/jupytext --sync notebooks/*.py
	$(VENV)/bin/jupyter nbconvert --clear-output --inplace --log-level=WARN notebooks/*.ipynb
	$(VENV)/bin/jupytext --sync notebooks/*.py

# JupyterLab on working copies of notebooks/ (in .adrop-lab/), on 127.0.0.1 only; no account or key needed
lab: $(STAMP)
	$(VENV)/bin/adrop-kit lab

clean:
	rm -rf sample build dist .pytest_cache .ruff_cache .hypothesis benchmarks/results *.egg-info
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
