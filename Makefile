# The development workflow, as executable documentation.
#   make demo      set up, serve the demo site, run the scheduler, serve the feeds on :8080
#   make test      set up and run the test suite
#   make lint      ruff
#   make accuracy  extraction scores on ../shared/corpus, feeder vs trafilatura
#   make speed     extraction time per page, feeder vs trafilatura

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-all lint accuracy speed bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python demo/run.py

test: $(STAMP)
	$(BIN)/pytest -q

# Also the long recovery tests (kill -9, hostile server); .ci/run runs these.
test-all: $(STAMP)
	$(BIN)/pytest -q -m "slow or not slow"

lint: $(STAMP)
	$(BIN)/ruff check .

accuracy: $(STAMP)
	$(BIN)/python bench/accuracy.py

speed: $(STAMP)
	$(BIN)/python bench/speed.py

clean:
	rm -rf public var .pytest_cache
