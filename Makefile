# Tripline. `make demo` and `make test` are the two commands a newcomer runs; both install what they need.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: test fmt-check core clippy unit help

help: ## list targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

test: emulator ocsf-schema fmt-check core clippy unit fuzz-smoke lint-template ## everything CI runs

# The integration tests (tests/) drive the real AWS SDK against moto_server, pinned and installed into
# .venv-moto/ (gitignored); the test harness starts and stops it. Idempotent.
.PHONY: emulator
emulator: ## install the AWS API emulator (moto[server]==5.2.5) into .venv-moto/
	scripts/emulator-venv.sh >/dev/null

# The OCSF 1.5.0 schema (from the pinned PyPI package ocsf-json-schema, with its licence) that the OCSF
# output is validated against; extracted into .venv-ocsf/ (gitignored). Idempotent.
.PHONY: ocsf-schema
ocsf-schema: ## fetch the OCSF schema the OCSF output tests validate against
	scripts/ocsf-schema.sh

fmt-check: ## rustfmt check (the workspace and the fuzz/ crate)
	$(CARGO) fmt --all -- --check
	$(CARGO) fmt --manifest-path fuzz/Cargo.toml -- --check

clippy: ## clippy, warnings are errors
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings

# The first invariant of ARCHITECTURE.md, kept by the compiler: tripline-core builds and tests on its own, and
# nothing in its dependency tree is an AWS SDK, an async runtime or an HTTP stack.
CORE_FORBIDDEN := ^(aws-|tokio|hyper|lambda_runtime|reqwest|futures|http)
core: ocsf-schema ## build and test the pure core crate alone; fail if an SDK, runtime or HTTP crate enters its dependencies
	@if $(CARGO) tree -p tripline-core -e normal --prefix none | grep -E '$(CORE_FORBIDDEN)'; then \
	  echo "core: tripline-core must not depend on the crates above (ARCHITECTURE.md, invariants)" >&2; exit 1; fi
	$(CARGO) test -p tripline-core
	@# The CLI without its `aws` feature is the pure engine (assess, rules, patterns, policy): it must build.
	$(CARGO) check -q -p tripline-cli --no-default-features

unit: ocsf-schema ## all cargo tests
	$(CARGO) test --workspace --all-features

# ---- Demo (issue 7): the whole pipeline live against a local AWS emulator, no AWS account needed ---------------
# Installs the emulator (.venv-moto/) and cargo-lambda (.venv-tools/) if missing, builds the binaries, runs
# demo/demo.py; stops everything it started (also on Ctrl-C). DEMO_QUIET=1 prints only the summary table.
.PHONY: demo
demo: ## run Tripline end to end against moto_server: risky changes -> alerts, remediation, Slack, scan
	scripts/demo.sh

# ---- Deployment: Lambda binaries, zips, SAM, template lint (issue 6) ---------------------------------------
# Tools live in local virtualenvs with pinned versions (scripts/tools.sh): cargo-lambda (with zig, for arm64),
# aws-sam-cli + cfn-lint in .venv-tools/, checkov in .venv-checkov/ (it pins an older boto3).
FUNCTIONS := on-cloudtrail on-config sweep sweep-worker remediate notify-slack
TOOLS_BIN := $(CURDIR)/.venv-tools/bin
TOOLS_PATH := PATH="$(TOOLS_BIN):$$PATH"
SAM := SAM_CLI_TELEMETRY=0 $(TOOLS_PATH) $(TOOLS_BIN)/sam
# arm64 (what template.yaml deploys) or x86-64 (local fallback when the arm64 Rust target is unavailable).
ARCH ?= arm64

.PHONY: tools build package sam-build deploy lint-template template-sync invoke-local

tools: ## install the pinned deployment tools into .venv-tools/ and .venv-checkov/
	scripts/tools.sh lambda
	scripts/tools.sh sam
	scripts/tools.sh checkov

build: ## Lambda binaries, release (cargo lambda build --release --arm64; ARCH=x86-64 to override)
	scripts/tools.sh lambda
	arch="$(ARCH)"; \
	if [ "$$arch" = arm64 ] && ! scripts/tools.sh arm64; then \
	  echo "build: FALLING BACK to x86-64 binaries: fine for local runs, NOT deployable with template.yaml (arm64)." >&2; \
	  arch=x86-64; \
	fi; \
	$(TOOLS_PATH) $(CARGO) lambda build --release --$$arch --output-format zip $(addprefix --bin ,$(FUNCTIONS)); \
	echo "$$arch" > target/lambda/ARCH

package: build ## one zip per function under dist/ (dist/<name>.zip), sizes printed
	rm -rf dist && mkdir -p dist
	for f in $(FUNCTIONS); do cp target/lambda/$$f/bootstrap.zip dist/$$f.zip; done
	cp target/lambda/ARCH dist/ARCH
	@echo "package: $$(cat dist/ARCH) zips in dist/:"; \
	for f in $(FUNCTIONS); do \
	  printf "  %-16s %8d bytes (%s)\n" $$f $$(stat -c %s dist/$$f.zip) "$$(numfmt --to=iec-i --suffix=B $$(stat -c %s dist/$$f.zip))"; \
	done

sam-build: ## sam build (BuildMethod rust-cargolambda: cargo lambda build --release --arm64 per function)
	scripts/tools.sh lambda
	scripts/tools.sh sam
	scripts/tools.sh arm64
	$(SAM) build --template-file template.yaml

deploy: sam-build ## sam deploy --guided (asks for the parameters; see README, "Deploy")
	$(SAM) deploy --guided

lint-template: ## cfn-lint, sam validate --lint and checkov on template.yaml and member-template.yaml
	scripts/tools.sh sam
	scripts/tools.sh checkov
	$(TOOLS_BIN)/cfn-lint template.yaml member-template.yaml
	SAM_CLI_TELEMETRY=0 $(TOOLS_BIN)/sam validate --lint --template template.yaml
	SAM_CLI_TELEMETRY=0 $(TOOLS_BIN)/sam validate --lint --template member-template.yaml
	$(CURDIR)/.venv-checkov/bin/checkov --config-file .checkov.yaml -f template.yaml -f member-template.yaml

template-sync: ## regenerate the registry-derived blocks of the templates (EventBridge patterns, permissions)
	$(CARGO) build -q -p tripline-cli
	python3 scripts/sync-template.py target/debug/tripline

# FUNCTION and EVENT choose what to run: make invoke-local FUNCTION=on-cloudtrail EVENT=events/<file>.json
FUNCTION ?= on-cloudtrail
EVENT ?=
invoke-local: ## run a function under `cargo lambda watch`, invoke it with an events/ sample, stop it
	scripts/tools.sh lambda
	$(TOOLS_PATH) scripts/invoke-local.sh "$(FUNCTION)" "$(EVENT)"


# ---- Benchmarks (issue 8): Tripline vs Cloud Custodian vs the hello-world floor. Not part of `make test`. ----
# Installs Custodian (.venv-bench/) and the emulator, builds release binaries, rewrites BENCHMARKS.md.
# BENCH_ARGS is passed to bench/run.py, e.g. make bench BENCH_ARGS="--only sweep --quick".
BENCH_ARGS ?=
.PHONY: bench
bench: ## benchmarks side by side (Custodian, hello-world floor); rewrites BENCHMARKS.md (~10 min + release build)
	bench/run.sh $(BENCH_ARGS)


# ---- Fuzzing (issue 15): coverage-guided, libFuzzer via libfuzzer-sys on the stable toolchain ----------------
# scripts/fuzz.sh builds the fuzz/ crate (its own workspace) with the SanitizerCoverage flags and runs each
# target (fuzz/fuzz_targets/) for FUZZ_SECONDS, one after another; findings land in fuzz/artifacts/<target>/.
# fuzz-smoke (in `make test`): replays the committed seeds, then FUZZ_SMOKE_SECONDS of fuzzing per target.
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 2
FUZZ_TARGETS ?=
.PHONY: fuzz fuzz-smoke fuzz-seeds
fuzz: ## fuzz every target (FUZZ_TARGETS="diff render" for some) for FUZZ_SECONDS each (default 60)
	scripts/fuzz.sh run $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke: ## build the fuzz targets, replay the seed corpora, fuzz each target FUZZ_SMOKE_SECONDS (2)
	scripts/fuzz.sh smoke $(FUZZ_SMOKE_SECONDS)

fuzz-seeds: ## regenerate the seed corpora fuzz/corpus/<target>/ from events/ and the test tables
	scripts/fuzz.sh seed
