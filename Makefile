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

WEB_SOURCES := web/package.json web/package-lock.json web/build.mjs $(shell find web/src -type f)
WEB_MODULES := web/node_modules/.package-lock.json
WEB := web/dist/index.html
SYNTH_INPUTS := app.py cdk.json $(WEB) $(shell find stacks functions layers -type f \( -name '*.py' -o -name '*.txt' \) -not -path '*/__pycache__/*')
TEMPLATES := cdk.out/manifest.json
PUSH_TEMPLATES := .local/cdk.out.push/manifest.json

.PHONY: help run test lint typecheck bench soak synth deploy clean web browsers screenshots

help:
	@echo "make run    start the local cloud on http://127.0.0.1:$(PORT) (PORT=... to change)"
	@echo "make test   run every test (unit, integration, infrastructure, e2e)"
	@echo "make lint   ruff + mypy      make bench   benchmarks (JSON in benchmarks/results/; ARGS=feed for one)"
	@echo "make soak   long reliability runs: load, fuzzing, hostile media (JSON in soak/results/)"
	@echo "make synth  CloudFormation templates into cdk.out/      make deploy   cdk deploy --all"
	@echo "make web    build Pinhole Web into web/dist/            make screenshots   docs/screenshots/*.png"

$(INSTALLED): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Pinhole needs Python 3.11+ (found $$($(PYTHON) --version))"; exit 1; }
	@command -v node >/dev/null || { echo "Pinhole needs Node.js 20+ for the CDK (jsii)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# --no-compile: Python compiles what is imported when it is first imported; pip compiling every installed
	@# module took ~40 s on one core (clean clone: 417 s in all with it, 402 s without; pytest itself 26 s slower).
	$(PY) -m pip install --quiet --no-compile -r requirements.txt
	@touch $@

$(TEMPLATES): $(INSTALLED) $(SYNTH_INPUTS)
	@# in place: CDK does not bundle again an asset whose source is unchanged and already staged
	@# a failed synth (e.g. a cdk-nag finding) must not leave a manifest that looks up to date
	CDK_OUTDIR=cdk.out $(PY) app.py || { rm -f $@; exit 1; }
	@touch $@

synth: $(TEMPLATES)

# The app with push credentials named, for tests/e2e/test_push.py (which builds it itself when it is missing).
$(PUSH_TEMPLATES): $(TEMPLATES)
	$(PY) -m tests.support.push_app

# Pinhole Web: npm ci from the committed lockfile (pinned versions), then esbuild (web/build.mjs).
$(WEB_MODULES): web/package.json web/package-lock.json
	@command -v npm >/dev/null || { echo "Pinhole Web needs Node.js 20+ with npm"; exit 1; }
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(WEB): $(WEB_MODULES) $(WEB_SOURCES)
	cd web && node build.mjs

web: $(WEB)

# The browser tests drive Debian's chromium (Playwright's own browser download does not work here).
# As root (CI), a missing chromium is installed; otherwise the tests say how to get it (and fail under CI=true).
browsers:
	@command -v chromium >/dev/null || [ -n "$$PINHOLE_CHROMIUM" ] || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: apt-get install chromium (as root) for the browser tests"; fi; }

screenshots: $(TEMPLATES) browsers
	$(PY) -m tests.browser.screenshots

run: $(TEMPLATES)
	$(PY) -m local --port $(PORT) $(ARGS)

typecheck: $(INSTALLED)
	$(PY) -m ruff check .
	$(PY) -m mypy

test: browsers
	@# mypy (~15 s cold) and the synths (cdk.out, then the push app: ~30 s) keep one core busy each: on two
	@# cores they run side by side (each one's output kept together).
	$(MAKE) --no-print-directory -j2 --output-sync=target typecheck $(PUSH_TEMPLATES)
	@# The in-process local cloud tests change process-wide state (moto's backends, os.environ, the
	@# AWS endpoint variables) that mock_aws tests must never see: they get a pytest process of their own.
	@# --durations: the slowest tests, named at the end of every run (where the suite's time goes).
	@# worksteal: a worker that runs out of tests takes part of another's queue, so all finish together
	@# (with `load`, one worker idled for the last ~16% of the run while the other worked through its chunk).
	@# Three workers on two cores: e2e tests wait on sockets and on the pumps' polls, and with two workers the
	@# cores were busy 1.6 of 2 on average (/proc/stat every 10 s); with three, 1.9 (pytest 318 s -> 276 s).
	$(PY) -m pytest -n 3 --dist worksteal --durations=15 --ignore=tests/integration/local $(PYTEST_ARGS)
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
	rm -rf $(VENV) cdk.out .local .pytest_cache .mypy_cache .ruff_cache web/dist web/node_modules
