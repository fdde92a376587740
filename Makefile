# Two commands do all the set-up on a machine with only Python 3.11+:
#   make run    build .venv from requirements.lock, then `newsdesk run` on seeds/
#   make test   build .venv from requirements.lock, then the test suite (quick: not the slow or eval tests)
#   make check  the quality gates on ../shared/data and the slow tests (Prefect server, crashes, Dask); CI runs both
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
UV_VERSION = 0.13.9
STAMP   = $(VENV)/.installed

.PHONY: run test check eval golden bench lock server clean

# --compile-bytecode: every process (the CLI, each pool worker) then starts from .pyc files instead of
# compiling ~1,400 modules, about 2 s a start where bytecode is not written (PYTHONDONTWRITEBYTECODE).
$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "newsdesk needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@$(BIN)/python -m compileall -q flows transforms warehouse evaluation >/dev/null  # our own modules too (editable install)
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/newsdesk run

test: $(STAMP)
	PREFECT_HOME=$$(mktemp -d) $(BIN)/python -m pytest -m "not slow and not eval"

check: $(STAMP)
	PREFECT_HOME=$$(mktemp -d) $(BIN)/python -m pytest -m "slow or eval"

eval: $(STAMP)
	$(BIN)/newsdesk eval extraction ../shared/data/article-extraction-benchmark ../shared/data/trafilatura-eval-en
	$(BIN)/newsdesk eval extraction ../shared/data/fundus-multilingual
	$(BIN)/newsdesk eval entities ../shared/data/conll2003/conllpp_dev.txt ../shared/data/aida-conll-yago/dev.jsonl
	$(BIN)/newsdesk eval quotes ../shared/data/polnear/dev.jsonl.gz
	$(BIN)/newsdesk eval duplicates ../shared/data
	$(BIN)/newsdesk eval language tests/fixtures/language/news-8-languages.jsonl tests/fixtures/language/fr-entities.jsonl

# Rewrite the golden files under tests/golden/ after an intended change; read `git diff tests/golden` before committing.
golden: $(STAMP)
	$(BIN)/python -m tests.golden.regenerate

# Regenerate the lock file after changing requirements.in (needs network to the package index).
lock: $(STAMP)
	$(BIN)/uv pip compile --quiet --python-version 3.11 --generate-hashes requirements.in -o requirements.lock

# A persistent local Prefect server on 127.0.0.1:4200 (UI at http://127.0.0.1:4200).
server: $(STAMP)
	$(BIN)/prefect server start --host 127.0.0.1 --port 4200

clean:
	rm -rf $(VENV) warehouse/newsdesk.duckdb warehouse/lake warehouse/raw
