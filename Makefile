# Tripline. `make demo` and `make test` are the two commands a newcomer runs; both install what they need.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: test fmt-check clippy unit help

help: ## list targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

test: fmt-check clippy unit ## everything CI runs

fmt-check: ## rustfmt check
	$(CARGO) fmt --all -- --check

clippy: ## clippy, warnings are errors
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings

unit: ## all cargo tests
	$(CARGO) test --workspace --all-features
