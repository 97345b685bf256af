# Every target creates .venv on first use; nothing outside the checkout is touched.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench lint proto accel quint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/raftlab run

# The compiled build first, when this machine can make it and it is stale (so
# tests/sim/test_accel.py, which compares its traces with the pure Python's,
# runs rather than skips); without a C compiler, one line says so and the
# tests run on (that test skips). A compiler present but a failing build fails.
# Quint likewise, when npm is here (its tests skip without it).
test: $(STAMP)
	@if [ -n "$(CAN_COMPILE)" ]; then $(MAKE) --no-print-directory accel; \
	else echo "make test: no C compiler or Python headers: not building the compiled core"; fi
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory quint \
		|| echo "make test: Quint did not install: the tests that run it skip"; \
	else echo "make test: no npm: not installing Quint (the tests that run it skip)"; fi
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

# The simulator's hot path compiled with mypyc into build/accel/ (needs a C
# compiler; a minute or two; make test runs it when it can): the pure core
# (consensus/), the node runtime, the simulator's event loop, network, disks,
# clients and latency draws, and the trace recorder. The packages holding them
# are copied there whole, so that build/accel first on PYTHONPATH serves all
# of them; nothing uses it otherwise. bench/sim.py then also measures it, and
# tests/sim/test_accel.py checks that it writes the same trace bytes as the
# pure Python, which stays the reference. raftlab/accel.py tells whether the
# build is there and fresh. So are the linearizability checker's readers,
# reductions and searches (tests/linearizability/test_accel.py compares
# verdicts and reports). A compiled class that interpreted code subclasses
# must allow it (mypyc_attr), as sim/cluster.py's Simulation does for
# sim/schedule.py.
ACCEL := build/accel
# Non-empty if the C compiler Python builds extensions with ($CC, else the
# one Python was built with), and Python's headers, are here (evaluated only
# when a recipe uses it).
CAN_COMPILE = $(shell $(BIN)/python -c "import os, shutil, sysconfig; \
	cc = (os.environ.get('CC') or sysconfig.get_config_var('CC') or 'cc').split()[0]; \
	h = os.path.join(sysconfig.get_paths()['include'], 'Python.h'); \
	print('yes' if shutil.which(cc) and os.path.exists(h) else '')")
ACCEL_PACKAGES := consensus traces kv sim checkers
ACCEL_MODULES := consensus/*.py traces/recorder.py traces/integrity.py kv/runtime.py \
	kv/statemachine.py kv/commands.py sim/cluster.py sim/node.py sim/network.py sim/disk.py \
	sim/workload.py sim/clocks.py sim/draws.py \
	$(addprefix checkers/linearizability/,history.py normalize.py wgl.py jit.py model.py \
	portfolio.py timeline.py parse/canonical.py parse/edn.py parse/jsonl.py parse/jepsen_log.py \
	models/kv.py models/register.py)
ACCEL_SOURCES := $(foreach p,$(ACCEL_PACKAGES),$(shell find $(p) -name '*.py'))

accel: $(ACCEL)/.built

$(ACCEL)/.built: $(STAMP) $(ACCEL_SOURCES)
	rm -rf $(ACCEL)
	mkdir -p $(ACCEL)
	touch $(ACCEL)/.started  # the stamp: a source edited during the build makes it stale
	cp -r $(ACCEL_PACKAGES) $(ACCEL)/
	find $(ACCEL) -name __pycache__ -prune -exec rm -rf {} +
	cd $(ACCEL) && $(CURDIR)/$(BIN)/mypyc $(ACCEL_MODULES) > mypyc.log 2>&1 \
		|| { tail -20 mypyc.log; echo "make accel: mypyc failed (see $(ACCEL)/mypyc.log)"; exit 1; }
	rm -rf $(ACCEL)/build
	mv $(ACCEL)/.started $@

# Quint (npm @informalsystems/quint) in build/quint, for the tests that run
# it on a model and read the ITF trace it writes (tests/quint.py finds it).
# The antlr4ts release npm picks for Quint 0.33 fails at start-up, so the one
# before it is pinned (docs/export.md). npm's fetches time out in 30 s with
# two retries, so that make test goes on without Quint when offline.
QUINT_DIR := build/quint
QUINT_PACKAGE := {"private": true, "dependencies": {"@informalsystems/quint": "0.33.1"}, \
	"overrides": {"antlr4ts": "0.5.0-alpha.4"}}

quint: $(QUINT_DIR)/.installed

$(QUINT_DIR)/.installed:
	mkdir -p $(QUINT_DIR)
	echo '$(QUINT_PACKAGE)' > $(QUINT_DIR)/package.json
	cd $(QUINT_DIR) && npm install --no-audit --no-fund --loglevel=error --fetch-retries=2 --fetch-timeout=30000
	touch $@

clean:
	rm -rf $(VENV) runs build *.egg-info
