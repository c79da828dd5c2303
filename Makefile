# One entry point. `make demo` and `make test` set everything up on a fresh machine first.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: setup demo test protos bench lint system-deps clean

setup: $(STAMP) system-deps

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	# MovieLens-100K ships inside recbole's wheel; its own dependencies are not needed.
	$(BIN)/pip install -q --no-deps recbole==1.2.1
	touch $(STAMP)

# Debian packages: redis-server backs the embedded mode (skipped when REDIS_URL points elsewhere);
# docker-compose (1.29) only validates docker-compose.yml, no engine needed. Installed with
# apt-get when missing and we are root; otherwise a clear message.
APT_PKGS = $(if $(or $(REDIS_URL),$(shell command -v redis-server)),,redis-server) \
           $(if $(shell command -v docker-compose),,docker-compose)
system-deps:
	@if [ -z "$(strip $(APT_PKGS))" ]; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing with apt-get: $(strip $(APT_PKGS))"; \
		(apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PKGS) >/dev/null; \
	elif ! command -v redis-server >/dev/null 2>&1 && [ -z "$$REDIS_URL" ]; then \
		echo "redis-server is missing: run 'sudo apt-get install -y redis-server' or set REDIS_URL" >&2; exit 1; \
	else echo "note: docker-compose missing (only needed to validate docker-compose.yml)"; fi

demo: setup
	$(BIN)/foryou demo

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

protos: $(STAMP)
	$(BIN)/python protos/generate.py

bench: setup
	$(BIN)/python -m bench all --quick

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache
