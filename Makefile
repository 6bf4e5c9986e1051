# Pinhole: `make run` starts the local cloud, `make test` runs every test. Both set themselves up.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
PORT ?= 8000
CDK_CLI := npx --yes aws-cdk@2.1148.0

export PYTHONPATH := $(CURDIR)/layers/pinhole:$(CURDIR)
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_VERSION_CHECK := 1

SYNTH_INPUTS := app.py cdk.json $(shell find stacks functions layers -type f \( -name '*.py' -o -name '*.txt' \) -not -path '*/__pycache__/*')
TEMPLATES := cdk.out/manifest.json

.PHONY: help run test lint bench soak synth deploy clean

help:
	@echo "make run    start the local cloud on http://127.0.0.1:$(PORT) (PORT=... to change)"
	@echo "make test   run every test (unit, integration, infrastructure, e2e)"
	@echo "make lint   ruff + mypy      make bench   benchmarks (JSON in benchmarks/results/; ARGS=feed for one)"
	@echo "make soak   long reliability runs: load, fuzzing, hostile media (JSON in soak/results/)"
	@echo "make synth  CloudFormation templates into cdk.out/      make deploy   cdk deploy --all"

$(INSTALLED): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Pinhole needs Python 3.11+ (found $$($(PYTHON) --version))"; exit 1; }
	@command -v node >/dev/null || { echo "Pinhole needs Node.js 20+ for the CDK (jsii)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(TEMPLATES): $(INSTALLED) $(SYNTH_INPUTS)
	@# in place: CDK does not bundle again an asset whose source is unchanged and already staged
	@# a failed synth (e.g. a cdk-nag finding) must not leave a manifest that looks up to date
	CDK_OUTDIR=cdk.out $(PY) app.py || { rm -f $@; exit 1; }
	@touch $@

synth: $(TEMPLATES)

run: $(TEMPLATES)
	$(PY) -m local --port $(PORT) $(ARGS)

test: $(TEMPLATES)
	$(PY) -m ruff check .
	$(PY) -m mypy
	@# The in-process local cloud tests change process-wide state (moto's backends, os.environ, the
	@# AWS endpoint variables) that mock_aws tests must never see: they get a pytest process of their own.
	$(PY) -m pytest -n 2 --ignore=tests/integration/local $(PYTEST_ARGS)
	$(PY) -m pytest tests/integration/local $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

bench: $(TEMPLATES)
	@mkdir -p benchmarks/results
	$(PY) -m benchmarks $(ARGS)

soak: $(TEMPLATES)
	@mkdir -p soak/results
	$(PY) -m soak $(ARGS)

deploy: $(TEMPLATES)
	$(CDK_CLI) deploy --all --app cdk.out --require-approval broadening

clean:
	rm -rf $(VENV) cdk.out .local .pytest_cache .mypy_cache .ruff_cache
