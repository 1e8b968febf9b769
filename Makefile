# Two commands on a fresh machine with Python >= 3.11 and make:
#   make demo   set up .venv, install, screen the bundled demo extract
#   make test   set up .venv, install, run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-thorough lint setup clean notebooks differential spark-check bench report-check casebook model-graph

setup: $(STAMP)

# The package's modules compiled to bytecode once, as pip does when it installs a wheel: an editable install
# leaves that to the first run, and where PYTHONDONTWRITEBYTECODE is set (as on some shared machines) every run
# compiles every module again, some 0.06 s of each command's start-up. A module changed since is compiled afresh
# on import, as always; the files stay beside the sources, git-ignored.
BYTECODE = $(BIN)/python -m compileall -q oligo_cohort

# `ipykernel install` leaves an empty folder of its own in the temporary folder: it is given one, removed after.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	scratch=$$(mktemp -d) && TMPDIR=$$scratch $(BIN)/python -m ipykernel install --prefix $(VENV) --name python3 \
		> /dev/null && rm -rf "$$scratch"
	$(BYTECODE)
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/oligo-cohort demo --out demo-output

test: $(STAMP)
	$(BIN)/ruff check oligo_cohort tests
	$(BIN)/python -m pytest -q -n auto --dist loadscope

# The default suite with every costly generated test drawing all of its examples, where `make test` draws half
# (tests/draws.py): before a release, or after changing what those tests cover. About 70 s longer on 2 cores.
test-thorough: $(STAMP)
	OLIGO_COHORT_TEST_DRAWS=all $(BIN)/python -m pytest -q -n auto --dist loadscope

notebooks: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,notebooks]"
	$(BIN)/jupyter lab notebooks/

# The engines checked against each other: thousands of generated extracts (hypothesis; failures kept in
# .hypothesis/ for replay, OLIGO_DIFFERENTIAL_EXAMPLES=N to change the number), then 100,000 synthetic patients.
differential: $(STAMP)
	OLIGO_DIFFERENTIAL=thorough $(BIN)/python -m pytest -q -p no:cacheprovider --timeout 3600 tests/differential
	$(BIN)/python -m pytest -q -p no:cacheprovider --timeout 3600 -m slow tests/engines/pandas_engine/test_scale.py

# The Spark engine (optional extra [spark]; Java 17+): spec tests of every criterion and the demo on Spark, then
# identical patients.csv from Spark, DuckDB and pandas on the demo and a generated 2,000-patient extract.
spark-check: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,spark]"
	nice -n 10 $(BIN)/python -m pytest -q -p no:cacheprovider --timeout 3600 -m spark \
		tests/engines/spark/test_spark_engine.py tests/spec tests/engines/test_demo_expectations.py

# Benchmarks, apart from the tests: the screen of synthetic Parquet extracts of 10k, 100k and 1M patients (generated
# once into benchmarks/.data/, git-ignored) against the floor, per stage, and the commands on the demo (--help,
# screen, report) against start-up, each the median of fresh runs -> benchmarks/results.md with the targets' verdicts.
# Run it on a quiet machine. Options through BENCH_ARGS, e.g.
# make bench BENCH_ARGS="--sizes 10k,100k --engines duckdb", or BENCH_ARGS=--quick (a smoke run, never the quoted file).
# After a change to the report alone: make bench BENCH_ARGS="--render benchmarks/results.json" (measures nothing).
BENCH_ARGS ?=
bench: $(STAMP)
	$(BYTECODE)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

# The demo's feasibility report as a browser shows and prints it: headless Chromium screenshots (1280 px and
# 390 px wide) and the A4 PDF with a PNG per page, in report-check/ (git-ignored), to look at. Needs Chromium
# (apt-get install chromium; poppler-utils for the page PNGs); the same runs as a slow test.
report-check: $(STAMP)
	$(BIN)/python -m tests.attrition.report_rendering report-check

# The casebook (docs/casebook.md): every spec case of every criterion, its tables and expected outcomes, rendered
# from tests/spec; a test fails when it is stale.
casebook: $(STAMP)
	$(BIN)/python -m tests.spec.casebook

# The tables each SQL model reads, recorded beside the models (sql/model_graph.json) so that a run need not parse
# them again; a test fails when it is stale.
model-graph: $(STAMP)
	$(BIN)/python -c "from oligo_cohort.engines.models import write_graph; print('wrote', write_graph())"

# Python with ruff; the SQL models with sqlfluff (DuckDB dialect, rendered with the engines' Jinja context; rules
# in .sqlfluff). sqlfluff takes some 20 s, so it runs here and not in `make test`.
lint: $(STAMP)
	$(BIN)/ruff check oligo_cohort tests
	$(BIN)/ruff format --check oligo_cohort tests
	$(BIN)/sqlfluff lint sql

clean:
	rm -rf $(VENV) demo-output .pytest_cache report-check
