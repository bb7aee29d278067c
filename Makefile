# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
# pytest-xdist workers per pass, each with its own database; then the tests marked
# shared_services (a shared broker, killed processes, real time) alone in one process
TEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest -p no:cacheprovider

.PHONY: run test suite test-sqlite test-postgresql fuzz lint fmt babel-extract babel-update babel-compile babel-plugins bench faults load clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Python 3.11 or newer is needed (found: $$($(PYTHON) --version))"; exit 1; }
	@$(PYTHON) -m venv $(VENV) || { echo "Could not create a virtual environment: on Debian, 'apt-get install python3-venv'"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e '.[postgresql,server]'
	@touch $@

$(VENV)/.installed-test: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet -e '.[postgresql,server,test]'
	@touch $@ $(VENV)/.installed

## Create the environment, migrate the SQLite database, load the demo county, serve on :5000.
run: $(VENV)/.installed
	$(BIN)/township serve

## Create the environment with test extras and run the whole suite (SQLite, then PostgreSQL).
test: $(VENV)/.installed-test lint test-sqlite test-postgresql

test-sqlite: $(VENV)/.installed-test
	@$(MAKE) --no-print-directory suite TOWNSHIP_TEST_DATABASE_URL=

## The suite on the database TOWNSHIP_TEST_DATABASE_URL names (SQLite when empty).
suite: $(VENV)/.installed-test
	$(PYTEST) -n $(TEST_WORKERS) -m "not shared_services" $(PYTEST_ARGS)
	$(PYTEST) -m shared_services $(PYTEST_ARGS) || [ $$? -eq 5 ]

test-postgresql: $(VENV)/.installed-test
	@if $(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', 5432), 2)" 2>/dev/null; then \
	  $(MAKE) --no-print-directory suite TOWNSHIP_TEST_DATABASE_URL=$(PG_URL); \
	elif [ "$$CI" = "true" ]; then echo "PostgreSQL is unreachable under CI"; exit 1; \
	else echo "PostgreSQL not reachable: skipping the PostgreSQL pass"; fi

## Schemathesis against the API alone (the suite runs it too), printing its figures.
fuzz: $(VENV)/.installed-test
	$(BIN)/pytest -p no:cacheprovider -s tests/core/test_fuzz.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(VENV)/.installed-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

babel-extract: $(VENV)/.installed-test
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o core/translations/messages.pot .

babel-update: babel-extract
	$(BIN)/pybabel update -i core/translations/messages.pot -d core/translations

babel-compile: $(VENV)/.installed
	$(BIN)/pybabel compile -d core/translations
	$(BIN)/pybabel compile -D admin -d admin/translations
	@for dir in $$(ls -d plugins/*/translations 2>/dev/null); do $(BIN)/pybabel compile -d $$dir; done

## Each plugin's own catalog: extract, update (or start zh_CN), compile. PLUGIN=key for one.
babel-plugins: $(VENV)/.installed-test
	@for dir in $(if $(PLUGIN),plugins/$(PLUGIN),$$(ls -d plugins/*/ | grep -v -e releases -e training -e __pycache__)); do \
	  dir=$${dir%/}; mkdir -p $$dir/translations; \
	  $(BIN)/pybabel extract -F plugins/babel.cfg -k _l -k lazy_gettext -o $$dir/translations/messages.pot $$dir; \
	  if [ -f $$dir/translations/zh_Hans_CN/LC_MESSAGES/messages.po ]; then \
	    $(BIN)/pybabel update -i $$dir/translations/messages.pot -d $$dir/translations; \
	  else $(BIN)/pybabel init -i $$dir/translations/messages.pot -d $$dir/translations -l zh_Hans_CN; fi; \
	  $(BIN)/pybabel compile -d $$dir/translations; \
	done

## Benchmarks (not in CI): the pages side by side with hello-world and Django's admin under
## wrk, the deadline sweep, the inbox, the task path, create_app (bench/run.py, its own
## PostgreSQL database bench_perf), then each institution's own script in bench/.
bench: $(VENV)/.installed-test
	$(BIN)/python bench/run.py $(BENCH_ARGS)
	@for f in bench/*.py; do case $$f in \
	  bench/run.py|bench/common.py|bench/seed.py|bench/pages.py|bench/wsgi.py|bench/measure_*) ;; \
	  *) echo "== $$f"; $(BIN)/python $$f ;; esac; done

## The fault suite (tests/faults/): real processes, PostgreSQL, a Redis and a RabbitMQ of its
## own; FAULT_REPS=100 by default (about two hours), CI runs FAULT_REPS=2.
FAULT_REPS ?= 100
faults: $(VENV)/.installed-test
	$(BIN)/python -m tests.faults.scheduler_kill --reps $(FAULT_REPS)
	$(BIN)/python -m tests.faults.worker_kill --reps $(FAULT_REPS)
	$(BIN)/python -m tests.faults.broker_restart --reps $(FAULT_REPS)
	$(BIN)/python -m tests.faults.db_cut --reps $(FAULT_REPS)

## Load test (locust, headless): 100 staff sessions and 100 citizens for LOAD_TIME against
## gunicorn and PostgreSQL; prints errors and p50/p95/p99 per page. Not part of CI.
LOAD_TIME ?= 5m
load: $(VENV)/.installed-test
	$(BIN)/pip install --quiet -e '.[load]'
	$(BIN)/python bench/load/run.py --time $(LOAD_TIME)

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
