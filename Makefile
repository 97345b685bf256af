# Every target creates .venv on first use; nothing outside the checkout is touched.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench lint proto accel clean

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

# Optional: the pure core (consensus/) compiled with mypyc into build/accel/
# (needs a C compiler; about a minute). Nothing uses it unless build/accel is
# first on PYTHONPATH: bench/sim.py then also measures the compiled core, and
# tests/sim/test_accel.py checks that it writes the same trace bytes as the
# pure Python, which stays the reference. sim/accel.py tells whether the build
# is there and fresh. The copy of traces/ is only for mypy's type check.
ACCEL := build/accel
ACCEL_SOURCES := $(wildcard consensus/*.py) traces/schema.py

accel: $(ACCEL)/.built

$(ACCEL)/.built: $(STAMP) $(ACCEL_SOURCES)
	rm -rf $(ACCEL)
	mkdir -p $(ACCEL)/consensus $(ACCEL)/traces
	cp consensus/*.py consensus/py.typed $(ACCEL)/consensus/
	cp traces/*.py $(ACCEL)/traces/
	cd $(ACCEL) && $(CURDIR)/$(BIN)/mypyc consensus/ > mypyc.log 2>&1 \
		|| { tail -20 mypyc.log; echo "make accel: mypyc failed (see $(ACCEL)/mypyc.log)"; exit 1; }
	rm -rf $(ACCEL)/traces $(ACCEL)/build
	touch $@

clean:
	rm -rf $(VENV) runs build *.egg-info
