# The two set-up commands of the README: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test goldens bench clean

$(BIN)/newscrawl: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test,browse,parquet,postgres,frontier]'
	touch $@

# A replayed crawl of every site into data/articles.db, ending with a summary.
demo: $(BIN)/newscrawl
	$(BIN)/newscrawl crawl --replay

test: $(BIN)/newscrawl
	$(BIN)/pytest -q

# Rewrite the golden files from the current extraction; review the diff line by line.
goldens: $(BIN)/newscrawl
	$(BIN)/python -m tests.goldens

bench: $(BIN)/newscrawl
	$(BIN)/python bench/extraction.py

clean:
	rm -rf $(VENV) data/*.db* .pytest_cache
