# make run   - set up .venv, write var/config.toml if missing, initialise the database with
#              demo data, serve (development mode: the simulator at /simulator)
# make test  - set up .venv with the test extras and run the whole suite
# make lint  - ruff + mypy + the dependency audit of requirements.lock
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CONFIG ?= var/config.toml
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint lock init bench clean chromium

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test,lint]'
	touch $@

$(CONFIG): | $(VENV)/.installed
	$(PY) -m devtools.devconfig config.example.toml $(CONFIG) --port $(PORT)

init: $(VENV)/.installed $(CONFIG)
	$(VENV)/bin/yishiting init --config $(CONFIG)

# Development only: the config written above is in development mode, which --demo requires.
# Its local public_url follows PORT, so `yishiting simulate` finds this server.
run: $(VENV)/.installed $(CONFIG)
	$(PY) -m devtools.devconfig config.example.toml $(CONFIG) --port $(PORT)
	$(VENV)/bin/yishiting init --config $(CONFIG) --demo
	$(VENV)/bin/yishiting serve --config $(CONFIG) --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-dev chromium
	$(PY) -m pytest $(PYTEST_ARGS)

# The console's browser tests use Debian's Chromium. Installed when missing and this user may
# (root with apt-get); otherwise those tests are skipped, saying why.
chromium:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null \
		|| (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null); \
	fi

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check bot handlers models words devtools migrations tests bench tools
	$(VENV)/bin/ruff format --check bot handlers models words devtools migrations tests bench tools
	$(VENV)/bin/mypy
	$(PY) tools/audit_lock.py --check-venv requirements.lock

# Regenerate the audited lock after a dependency change (make lint checks it matches the venv).
lock: $(VENV)/.installed-dev
	$(VENV)/bin/pip freeze --exclude-editable > requirements.lock

bench: $(VENV)/.installed
	$(PY) bench/webhook.py

clean:
	rm -rf $(VENV) build *.egg-info
