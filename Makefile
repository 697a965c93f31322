# One command per task, the same for people and CI. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export PATH := $(HOME)/.local/bin:$(PATH)
UV ?= uv
RUN := $(UV) run --frozen
# Test workers: integration tests share one control plane per worker; 2 cores, so 2 at most.
PYTEST_WORKERS ?= 2
LINT_PATHS := src tests $(wildcard bench)

.PHONY: help
help: ## List the tasks
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

.PHONY: system-deps
system-deps: ## Install the Debian packages tether's tests need (git servers, openssl, chromium, mmdebstrap, umoci)
	@bash hack/system-deps.sh

.PHONY: install
install: ## Install Python 3.11 dependencies into .venv from the lockfile
	@command -v $(UV) >/dev/null || python3 -m pip install --quiet --user 'uv>=0.13,<0.14'
	@$(UV) sync --frozen --quiet

.PHONY: tools
tools: install ## Build (once per machine) kube-apiserver, etcd, helm, kustomize, kwok, Dex, the OCI registry, tether-goeval from Go modules
	@$(RUN) tether tools build

UI_BUNDLE := src/tether/ui/static/dist/ui.js

web/node_modules/.package-lock.json: web/package-lock.json
	@command -v npm >/dev/null || { echo "Node.js 20+ with npm is required on PATH" >&2; exit 1; }
	@cd web && npm ci --no-audit --no-fund --loglevel=error

$(UI_BUNDLE): web/node_modules/.package-lock.json web/build.mjs $(wildcard web/src/*.js)
	@cd web && node build.mjs

.PHONY: ui
ui: $(UI_BUNDLE) ## Build the web UI's scripts from web/ (npm packages pinned by web/package-lock.json)

.PHONY: fmt
fmt: install ## Format and autofix
	@$(RUN) ruff format $(LINT_PATHS)
	@$(RUN) ruff check --fix $(LINT_PATHS)

.PHONY: lint
lint: install ## ruff lint and format check
	@$(RUN) ruff check $(LINT_PATHS)
	@$(RUN) ruff format --check $(LINT_PATHS)

.PHONY: typecheck
typecheck: install ## mypy --strict
	@$(RUN) mypy

.PHONY: imports
imports: install ## import-linter: the layers only import downwards
	@$(RUN) lint-imports

.PHONY: check
check: lint typecheck imports ## All static checks

.PHONY: unit
unit: install ## The fast unit tests of the pure core (no cluster)
	@$(RUN) pytest tests/unit -q -p no:cacheprovider

.PHONY: test
test: system-deps install tools ui check ## Everything: install what is missing, check, then the whole suite
	@$(RUN) pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS) --dist loadgroup

IMAGE_DIR ?= build/image

.PHONY: image
image: system-deps install ui ## OCI image localhost/tether:<version> in build/image, no container daemon (cold ~4 min)
	@$(RUN) python hack/build-image.py --output $(IMAGE_DIR)

# `make demo DEMO_ARGS=--no-serve` returns once every app converged.
DEMO_ARGS ?= --serve

.PHONY: demo
demo: system-deps install tools ui ## Bring up the local control plane, run tether's main job on it, then serve the UI
	@$(RUN) tether demo $(DEMO_ARGS)

.PHONY: bench
bench: system-deps install tools ui ## Benchmarks side by side with their baselines (bench/results/latest.json)
	@$(RUN) python -m bench

.PHONY: clean
clean: ## Remove local caches (not the tool builds in ~/.cache/tether)
	rm -rf .venv .mypy_cache .ruff_cache .pytest_cache .hypothesis .coverage web/node_modules src/tether/ui/static/dist
