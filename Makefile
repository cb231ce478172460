# Two commands from a fresh clone: `make play` (run the instrument) and `make test` (pass the tests).
# Both bootstrap .venv: the CPU build of torch first (pinned, so no multi-GB CUDA wheel is pulled),
# then this package with its extras. Override TORCH_SPEC to bring your own (e.g. a CUDA build).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
TORCH_SPEC ?= torch==2.13.0
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: play test bench lint clean-venv

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11+ not found: install python3.11 and python3.11-venv"; exit 1; }
	$(PYTHON) -m venv $(VENV) || { echo "venv failed: on Debian/Ubuntu run 'apt-get install python3-venv'"; exit 1; }
	$(BIN)/pip install --quiet --disable-pip-version-check "$(TORCH_SPEC)"
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,midi,hands,tempo]'
	@touch $(STAMP)

play: $(STAMP)
	$(BIN)/textconductor play

test: $(STAMP)
	$(BIN)/ruff check textconductor tests examples
	@# The hand model is assembled once (from mediapipe 0.10.21's wheel on PyPI) and cached; without
	@# it the hand-photo tests skip rather than fail.
	@$(BIN)/textconductor hands setup >/dev/null 2>&1 || echo "hand model not set up: hand-photo tests will skip"
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/textconductor bench engine
	QT_QPA_PLATFORM=$${QT_QPA_PLATFORM:-offscreen} $(BIN)/textconductor bench ui

lint: $(STAMP)
	$(BIN)/ruff check textconductor tests examples

clean-venv:
	rm -rf $(VENV)
