# Two commands on a fresh machine with Python >= 3.11 and make:
#   make demo   set up .venv, install, screen the bundled demo extract
#   make test   set up .venv, install, run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint setup clean notebooks

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 > /dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/oligo-cohort demo --out demo-output

test: $(STAMP)
	$(BIN)/ruff check oligo_cohort tests
	$(BIN)/python -m pytest -q

notebooks: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,notebooks]"
	$(BIN)/jupyter lab notebooks/

lint: $(STAMP)
	$(BIN)/ruff check oligo_cohort tests
	$(BIN)/ruff format --check oligo_cohort tests

clean:
	rm -rf $(VENV) demo-output .pytest_cache
