# Each target installs what it needs into .venv on a fresh machine, then runs.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: install demo dev test test-fast bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "jira-assets needs Python 3.11+"'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@# `dagster asset materialize` takes its code location only from -m/-f (or this variable). A .pth file in
	@# the venv sets it at interpreter start when the working directory is this repo, so
	@# `dagster asset materialize --select issue_search+` works from the repo root, venv activated or not.
	@$(PY) -c 'import sysconfig, pathlib; pathlib.Path(sysconfig.get_paths()["purelib"], "jira_assets_dagster_cli.pth").write_text("import os; os.path.isfile(\"jira_assets/definitions.py\") and os.environ.setdefault(\"DAGSTER_CLI_ASSET_MATERIALIZE_MODULE_NAME\", \"jira_assets.definitions\")\n")'

	@rm -f $(VENV)/.installed-*
	@touch $@

## make demo: start the simulator, materialize every default asset into .jira_lake, print row counts, stop.
demo: install
	$(VENV)/bin/jira-assets demo

## make dev: the simulator plus `dagster dev` (UI on http://127.0.0.1:3000).
dev: install
	$(VENV)/bin/jira-assets dev

## make test: the whole suite, slow tests included (what CI runs).
test: install
	$(VENV)/bin/pytest -q -p no:cacheprovider jira_assets_tests

## make test-fast: skip tests marked slow.
test-fast: install
	$(VENV)/bin/pytest -q -m "not slow" jira_assets_tests

clean:
	rm -rf .jira_lake .dagster_home
