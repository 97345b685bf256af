# Every target creates .venv on first use; nothing outside the checkout is touched.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench lint proto clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/raftlab run

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/sim.py
	$(BIN)/python bench/lincheck.py
	$(BIN)/python bench/kv.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Regenerate the admin API's Python code from kv/proto/admin.proto (committed;
# tests/kv/test_admin_proto.py checks it matches). Needs grpcio-tools (test extra).
proto: $(STAMP)
	$(BIN)/python -m grpc_tools.protoc -I. --python_out=. --pyi_out=. --grpc_python_out=. \
		kv/proto/admin.proto

clean:
	rm -rf $(VENV) runs build *.egg-info
