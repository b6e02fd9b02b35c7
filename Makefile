# The two commands of README.md:  `make demo`  and  `make test`.
PYTHON ?= python3
# Development ptau (INSECURE, for tests and the demo): the shared prepared file when present.
# Without it, setup generates and caches one (slow) -- production passes --ptau <ceremony file>.
export ZKMARGIN_PTAU ?= $(firstword $(wildcard ../shared/ptau/dev_bn128_17.ptau))

.PHONY: install demo test fuzz bench mutate

install:
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	npm ci --no-audit --no-fund --loglevel=error

demo: install
	$(PYTHON) -m zkmargin demo

test: install
	$(PYTHON) -m pytest -q

fuzz: install
	HYPOTHESIS_PROFILE=fuzz $(PYTHON) -m pytest -q -m fuzz

bench: install
	$(PYTHON) benchmarks/engine.py
	$(PYTHON) benchmarks/prove.py
	$(PYTHON) benchmarks/batch.py

mutate: install
	$(PYTHON) -m tests.mutation --out mutation.md
