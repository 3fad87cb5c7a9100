# The two set-up commands of the README: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test test-quick goldens bench quality clean

$(BIN)/newscrawl: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test,browse,parquet,postgres,frontier]'
	# pip byte-compiles what it installs, not an editable project: without this, where Python may not
	# write bytecode (PYTHONDONTWRITEBYTECODE) every command compiles newscrawl anew (40 ms of `stats`)
	$(BIN)/python -m compileall -q crawler spiders storage
	touch $@

# A replayed crawl of every site into data/articles.db, ending with a summary.
demo: $(BIN)/newscrawl
	$(BIN)/newscrawl crawl --replay

# The whole suite (CI runs it); test-quick leaves out the slow end-to-end tests, for while you work.
# pytest-xdist runs one worker per core; a module's tests stay on one worker, so that the crawl
# its module-scoped fixture makes is made once.
XDIST := -n auto --dist loadscope

test: $(BIN)/newscrawl
	$(BIN)/pytest -q $(XDIST)

test-quick: $(BIN)/newscrawl
	$(BIN)/pytest -q $(XDIST) -m "not slow"

# Rewrite the golden files from the current extraction; review the diff line by line.
goldens: $(BIN)/newscrawl
	$(BIN)/python -m tests.goldens

# Speed: extraction against plain trafilatura, a replayed crawl of a generated site against a plain loop,
# search latency at 100,000 articles, SQLite against PostgreSQL and 1 against 3 frontier workers.
bench: $(BIN)/newscrawl
	$(BIN)/python bench/extraction.py
	$(BIN)/python bench/crawl.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/scale.py

# Generic extraction against plain trafilatura on a folder of real pages with ground truth
# (format: bench/quality.py); the pages stay outside the repository.
quality: $(BIN)/newscrawl
	@test -n "$(DIR)" || { echo "usage: make quality DIR=/path/to/pages [DIR=...]" >&2; exit 2; }
	$(BIN)/python bench/quality.py $(DIR)

clean:
	rm -rf $(VENV) data/*.db* .pytest_cache
