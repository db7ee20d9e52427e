# Strongroom: `make run` installs and starts the console, `make test` installs and runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
ARGS   ?=

.PHONY: install run cli test bench bench-backup bench-scale bench-fidelity bench-database bench-gui screenshots package smoke soak clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/strongroom-gui $(ARGS)

cli: $(STAMP)
	$(BIN)/strongroom $(or $(ARGS),locks)

test: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/mutex_bench.py $(BENCH_ARGS)

bench-backup: $(STAMP)
	$(BIN)/python bench/backup_bench.py $(BENCH_ARGS)

bench-scale: $(STAMP)
	$(BIN)/python bench/scale_bench.py $(BENCH_ARGS)

bench-fidelity: $(STAMP)
	$(BIN)/python bench/fidelity_bench.py $(BENCH_ARGS)

bench-database: $(STAMP)
	$(BIN)/python bench/database_bench.py $(BENCH_ARGS)

bench-gui: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python bench/gui_bench.py $(BENCH_ARGS)

screenshots: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python docs/make_screenshots.py

soak: $(STAMP)
	$(BIN)/python bench/soak.py --duration $(or $(DURATION),600) $(SOAK_ARGS)

package:
	packaging/build.sh

smoke: package
	packaging/smoke_test.sh

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
