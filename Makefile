# `make test` and `make demo` are the two commands a newcomer needs; both set up .venv on first use.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: test demo lint install clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# One stamp per extra, redone when pyproject.toml changes.
$(VENV)/.installed-%: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[$*]'
	touch $@

install: $(VENV)/.installed-dev

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .

test: $(VENV)/.installed-dev browser
	$(BIN)/ruff check .
	$(BIN)/pytest

# The browser test of the demo's transcript needs Debian's chromium: installed only when absent (as root).
# Without it the test is skipped locally and fails in CI.
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq chromium >/dev/null; } || echo "could not install chromium: the browser test will not run"

demo: $(VENV)/.installed-sandbox
	$(BIN)/logfire-bot demo

clean:
	rm -rf $(VENV) var demo-output
