# Two commands for a new user: `make run` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# `make run` listens on this machine only; `make run HOST=0.0.0.0` on every interface.
HOST ?= 127.0.0.1

.PHONY: install run test lint bench clean

$(BIN)/toneflow: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/toneflow

run: install
	$(BIN)/toneflow lint
	$(BIN)/toneflow db upgrade
	HOST=$(HOST) PORT=$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py 'app:create_app()'

test: install
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: install
	$(BIN)/toneflow lint

bench: install  # toneflow against bare Flask (needs wrk: apt-get install wrk)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache .hypothesis
