# The development workflow, as executable documentation.
#   make demo      set up, serve the demo site, run the scheduler, serve the feeds on :8080
#   make test      set up and run the test suite
#   make lint      ruff
#   make accuracy  extraction scores on ../shared/corpus, feeder vs trafilatura
#   make speed     extraction time per page, feeder vs trafilatura
#   make discovery listing discovery scored on ../shared/corpus/listings (held-out halves too)
#   make poll      polling 1,000 loopback sources: first ingest and idle poll
#   make adaptive  adaptive polling vs fixed 15-minute polling, 200 simulated sources, a month
#   make validate  the W3C Feed Validation Service (offline) on public/; needs FEEDVALIDATOR

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-all lint accuracy speed poll adaptive soak discovery validate clean

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
	$(BIN)/mypy

accuracy: $(STAMP)
	$(BIN)/python bench/accuracy.py

speed: $(STAMP)
	$(BIN)/python bench/speed.py

poll: $(STAMP)
	$(BIN)/python bench/poll.py

adaptive: $(STAMP)
	$(BIN)/python bench/adaptive.py

soak: $(STAMP)
	nice $(BIN)/python bench/soak.py

discovery: $(STAMP)
	$(BIN)/python bench/discovery.py

# FEEDVALIDATOR: a w3c/feedvalidator checkout (never part of this repository);
# FV_PYTHON: a Python with lxml, html5lib and rdflib. See deploy/README.md.
FEEDVALIDATOR ?= /opt/feedvalidator
FV_PYTHON ?= python3
validate:
	$(FV_PYTHON) bench/validate_feeds.py $(FEEDVALIDATOR) public http://127.0.0.1:8080/

clean:
	rm -rf public var .pytest_cache
