# customer-hub — every habit has a name here. `make dev` runs the product, `make test` checks it.
SHELL := /bin/bash
VENV ?= .venv
BIN := $(VENV)/bin
# SAM and the tests find python3.13 in the virtualenv; no telemetry from the tools.
export PATH := $(abspath $(BIN)):$(PATH)
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1
PYTEST := $(BIN)/pytest

.PHONY: dev test setup lint format typecheck unit integration infra e2e browser build validate openapi bench reliability clean sam-local

## Run the whole product locally (embedded AWS emulation, Smile.io stand-in, demo data).
dev: setup
	$(BIN)/hub dev

## Every check CI runs: lint, types and all test suites.
test: setup lint typecheck unit integration infra e2e browser

setup: $(VENV)/.setup-done

$(VENV)/.setup-done: requirements-dev.txt layers/shared/requirements.txt pyproject.toml scripts/setup-venv
	scripts/setup-venv $(VENV)
	touch $@

lint: setup
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(PYTEST) tests/unit -q

integration: setup
	$(PYTEST) tests/integration -q

infra: setup
	$(PYTEST) tests/infra -q

e2e: setup
	$(PYTEST) tests/e2e -q

## The web front ends in real headless Chromium (Debian's package, installed when root and
## missing; without it the tests are skipped with what to install, except under CI=true).
browser: setup
	scripts/ensure-chromium || [ "$$CI" != "true" ]
	$(PYTEST) tests/browser -q

validate: setup
	$(BIN)/sam validate --lint

build: setup
	$(BIN)/sam build

## sam build + `sam local invoke` of every function with its sample events, in containers
## (Docker, else Podman as root; offline images), against moto in a container.
sam-local: setup
	CHUB_SAMLOCAL=1 $(PYTEST) tests/samlocal -q

## The reliability and security suite (fuzzing, faults, attacks); CI runs it after `make test`.
reliability: setup
	$(PYTEST) tests/reliability -q

## Benchmarks (not tests): results in bench/results.md and the README table.
bench: setup
	$(BIN)/python -m bench.run

clean:
	rm -rf .aws-sam .aws-sam-local test-output .pytest_cache .mypy_cache .ruff_cache

## Regenerate the OpenAPI document (docs/openapi.json + the copy GET /v1/openapi.json serves).
openapi: setup
	$(BIN)/python -m hubdev.openapi
