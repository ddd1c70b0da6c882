# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
CONFIG ?=
# The JavaScript SDK (ticker-client): its devDependencies are pinned in package-lock.json.
JS       := clients/js
NPM_STAMP := $(JS)/node_modules/.installed-$(shell cat $(JS)/package-lock.json | cksum | cut -d' ' -f1)

.PHONY: run test test-fast lint bench venv js sdk clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

js: $(NPM_STAMP)

$(NPM_STAMP): $(JS)/package-lock.json $(JS)/package.json
	cd $(JS) && npm ci --no-audit --no-fund
	@touch $@

# The quote board serves the SDK as tsc builds it, committed under ticker/server/web/sdk/ so
# that serving (pip, Docker) needs no Node; a test keeps the copy equal to a fresh build.
sdk: $(NPM_STAMP)
	cd $(JS) && npm run build
	rm -f ticker/server/web/sdk/*.js
	cp $(JS)/dist/*.js ticker/server/web/sdk/

run: $(STAMP)
	$(BIN)/ticker serve $(if $(CONFIG),--config $(CONFIG))

lint: $(STAMP) $(NPM_STAMP)
	$(BIN)/ruff check ticker feeds tests benchmarks examples
	$(BIN)/mypy
	$(BIN)/lint-imports
	cd $(JS) && npm run lint

test: $(STAMP) lint
	$(BIN)/pytest
	cd $(JS) && TICKER_BIN=$(abspath $(BIN))/ticker npm test

# The unit layer only (tests/unit): seconds, no sockets, no services.
test-fast: $(STAMP)
	$(BIN)/pytest -q tests/unit

bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info $(JS)/node_modules $(JS)/dist
