# Two commands for users: `make demo` and `make test`. Both create .venv when it is missing or
# older than pyproject.toml, install the project into it, and run.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export GX_ANALYTICS_ENABLED := false
export DAGSTER_DISABLE_TELEMETRY := 1

.PHONY: demo test lint bench dev clean install i18n

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing into $(VENV) (first run takes about a minute) ..."
	@$(BIN)/python -m pip install --quiet --upgrade pip > $(VENV)/install.log 2>&1 || true
	@$(BIN)/python -m pip install -e '.[dev]' >> $(VENV)/install.log 2>&1 || \
	  { tail -n 30 $(VENV)/install.log; echo "installation failed: full log in $(VENV)/install.log"; exit 1; }
	@touch $@

demo: $(STAMP)
	@$(BIN)/kpi demo --out out/demo

# two workers (pytest-xdist): one per core; the session fixtures are built once per worker
test: $(STAMP) lint
	@bash scripts/test-prereqs.sh
	@$(BIN)/python -m pytest -q -n 2

# ruff (pyproject.toml [tool.ruff]) and sqlfluff (.sqlfluff: DuckDB dialect) over the code base
lint: $(STAMP)
	@$(BIN)/ruff check --quiet .
	@$(BIN)/sqlfluff lint sql --processes 2 > $(VENV)/sqlfluff.log 2>&1 || { cat $(VENV)/sqlfluff.log; exit 1; }
	@echo "lint: ruff and sqlfluff pass"

# The report's translations (kpi/report/i18n.py): new strings from the code and templates into
# kpi/report/locale/report.pot, merged into each language's report.po for a translator to fill in
# (make i18n LANGS=nl: one language's file only).
LANGS ?= nl de
i18n: $(STAMP)
	@$(BIN)/pybabel -q extract -F babel.cfg --add-location=file --sort-by-file --no-wrap \
	  --project=ai-training-kpi --copyright-holder="the ai-training-kpi authors" \
	  -o kpi/report/locale/report.pot .
	@for lang in $(LANGS); do \
	  test -f kpi/report/locale/$$lang/LC_MESSAGES/report.po || \
	    $(BIN)/pybabel -q init -D report -i kpi/report/locale/report.pot -d kpi/report/locale -l $$lang --no-wrap; \
	  $(BIN)/pybabel -q update -D report -i kpi/report/locale/report.pot -d kpi/report/locale -l $$lang \
	    --no-wrap --ignore-obsolete --init-missing; \
	done
	@echo "i18n: kpi/report/locale/report.pot and report.po of $(LANGS) updated; translate the empty entries"

# 1,000, 10,000 and 50,000 employees x 24 months (docs/benchmarks.md; about 15 minutes)
bench: $(STAMP)
	@$(BIN)/python bench/run.py

# the same and 99,999 employees, the generator's largest company (2.5 GB of exports)
.PHONY: bench-large
bench-large: $(STAMP)
	@$(BIN)/python bench/run.py --sizes 1000,10000,50000,99999

dev: $(STAMP)
	@DAGSTER_HOME=$${DAGSTER_HOME:-$(CURDIR)/.dagster_home} ; mkdir -p $$DAGSTER_HOME ; cp -n dagster.yaml $$DAGSTER_HOME/ ; \
	  DAGSTER_HOME=$$DAGSTER_HOME $(BIN)/dagster dev

clean:
	rm -rf out .pytest_cache
