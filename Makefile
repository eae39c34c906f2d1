# make test / make demo set themselves up on a fresh machine: a virtualenv in .venv
# with the package installed in editable mode and torch pinned to 2.13.0.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
CLIP   := tests/data/carphone.mp4

.PHONY: test demo bench-train bench-export bench-decode clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet -e ".[dev]" "torch==2.13.0"
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

# Until the player exists: fit a small model to the bundled clip, score it and export it.
demo: $(STAMP)
	rm -rf demo-run
	$(VENV)/bin/actinr train $(CLIP) -o demo-run --frames 10 --iters 1000
	$(VENV)/bin/actinr eval demo-run --json demo-run/eval.json
	$(VENV)/bin/actinr export demo-run -o demo-run/model.engine

bench-train: $(STAMP)
	$(PY) benchmarks/train_quality.py

bench-export: $(STAMP)
	$(PY) benchmarks/bias_rate.py

# Decoder FPS per backend on the carphone 0-19 model (fitted and exported into bench-run/ first).
bench-decode: $(STAMP)
	test -f bench-run/model.engine || ($(VENV)/bin/actinr train $(CLIP) -o bench-run --frames 20 && \
		$(VENV)/bin/actinr export bench-run -o bench-run/model.engine)
	cd benchmarks && ../$(PY) decoders.py ../bench-run/model.engine --sweep

clean:
	rm -rf $(VENV) demo-run bench-run .pytest_cache
