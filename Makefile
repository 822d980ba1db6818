# The two commands of the README: `make run` and `make test`. Everything they need, they install.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip --disable-pip-version-check -q

.PHONY: run test lint format bench clean

$(VENV)/bin/python:
	python3 -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(PIP) install -r requirements.txt 2> >(grep -v "is ignored: it is neither" >&2)
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(PIP) install -r requirements-dev.txt 2> >(grep -v "is ignored: it is neither" >&2)
	touch $@

run: $(VENV)/.runtime
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	bin/dev

test: $(VENV)/.dev
	bin/ensure-chromium
	$(VENV)/bin/pytest -n $${PYTEST_WORKERS:-2} $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(VENV)/.dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

$(VENV)/.bench: requirements-bench.txt $(VENV)/.dev
	$(PIP) install -r requirements-bench.txt 2> >(grep -v "is ignored: it is neither" >&2)
	touch $@

# LiteLLM (the benchmarks' comparison) pins an older openai SDK than the product, so it gets a virtualenv of its
# own. If it cannot be installed, the benchmarks run without the comparison and docs/benchmarks.md says so.
var/bench-litellm/.installed: bench/requirements-litellm.txt
	python3 -m venv var/bench-litellm
	var/bench-litellm/bin/pip --disable-pip-version-check -q install -r bench/requirements-litellm.txt \
		2> >(grep -v "is ignored: it is neither" >&2) && touch $@ \
		|| echo "LiteLLM could not be installed: the benchmarks leave its comparison out" >&2

# `make bench` runs every benchmark and rewrites docs/benchmarks.md; `make bench BENCH="fanout chain"` runs some.
bench: $(VENV)/.bench
	@$(MAKE) --no-print-directory var/bench-litellm/.installed
	$(PY) -m bench $(BENCH)

clean:
	rm -rf $(VENV) var db.sqlite3 test-output
