# Two commands do all the set-up on a fresh machine:
#   make book   creates .venv, installs emolab, executes every notebook, builds _build/html
#   make test   creates .venv, installs emolab, runs the unit and notebook tests
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.emolab-installed

.PHONY: install test book html clean help

help:
	@echo "make book   - install, execute every chapter, build the HTML book into _build/html"
	@echo "make html   - build the HTML book from the notebooks' committed outputs (no execution)"
	@echo "make test   - install, then unit tests + notebook tests (EMOLAB_PROFILE=smoke)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

install: $(STAMP)

test: $(STAMP)
	EMOLAB_PROFILE=smoke $(BIN)/python -m pytest tests notebooks \
		--nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

# Executes every chapter in the automatic profile ($$EMOLAB_PROFILE, else full
# with CUDA, else cpu), several at a time on the CPU, then builds the book from
# the executed notebooks (the build itself executes nothing: _config.yml).
book: $(STAMP)
	EMOLAB_NO_PROGRESS=1 $(BIN)/python scripts/execute_notebooks.py
	$(MAKE) html

html: $(STAMP)
	$(BIN)/jupyter-book build . --builder html -W -n --keep-going
	@echo "open _build/html/index.html"

clean:
	rm -rf _build runs
