# Two commands for a new user: `make run` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# `make run` listens on this machine only; `make run HOST=0.0.0.0` on every interface.
HOST ?= 127.0.0.1

.PHONY: install run test lint lock bench clean

# The tested versions, every one pinned (pip and setuptools too): the app, its dev tools and
# the postgres extra. Then toneflow itself, editable, adding nothing the lock did not choose.
$(BIN)/toneflow: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

install: $(BIN)/toneflow

run: install
	$(BIN)/toneflow lint
	$(BIN)/toneflow db upgrade
	HOST=$(HOST) PORT=$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py 'app:create_app()'

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/pytest

lint: install
	$(BIN)/toneflow lint

# Refresh requirements.lock after changing pyproject.toml's dependencies: pins that still fit
# are kept; `make lock LOCK_FLAGS=--upgrade` moves every pin to the newest allowed version.
# Commit the result once `make test` passes with it.
LOCK_FLAGS ?=
lock: install
	$(BIN)/pip-compile --quiet $(LOCK_FLAGS) --extra dev --extra postgres --allow-unsafe \
		--strip-extras --no-emit-index-url --no-emit-find-links \
		--output-file requirements.lock pyproject.toml

bench: install  # toneflow against bare Flask (needs wrk: apt-get install wrk)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .hypothesis
