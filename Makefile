# One target per pipeline step (DESIGN §2), each a `snn2fpga` subcommand run inside .venv (made by
# `make setup`). `make help` lists targets and variables. Defaults live in the code, not here:
# a variable left empty passes nothing, so `snn2fpga COMMAND --help` shows what applies.
PY      := .venv/bin/python
S2F     := .venv/bin/snn2fpga
MODEL   ?= runs/saccade-digits-ternary-ternary
NAME    := $(notdir $(patsubst %/,%,$(MODEL)))
# P lanes per layer, Q LIF units per layer ('all': one per lane), N samples, TARGET family, DEVICE part,
# FREQ MHz, FILES event files for sim-batch: empty = the command's default
P       ?=
Q       ?=
N       ?=
TARGET  ?=
DEVICE  ?=
FREQ    ?=
FILES   ?=
# BOARD for `make board` (ulx3s-85f, icebreaker, …), PORT and BAUD for `make run-board`
BOARD   ?= ulx3s-85f
PORT    ?= /dev/ttyUSB0
BAUD    ?=
STAMP   := .venv/.installed
POINT    = $(if $(P),--lanes $(P)) $(if $(Q),--units $(Q))
SYNTH_ARGS = $(POINT) $(if $(TARGET),--target $(TARGET)) $(if $(FREQ),--freq $(FREQ)) $(if $(DEVICE),--device $(DEVICE))

.PHONY: help setup demo test train export rtl hls hls-synth sim sim-batch synth bench board run-board lint clean

help:
	@echo "make setup      .venv with the pinned tools (every target does this first)"
	@echo "make demo       train → export → rtl → lint → hls → sim-batch → synth → bench on the default model"
	@echo "make test       every test (tests/ and sim/), as CI runs it"
	@echo "make train      train the default model into runs/"
	@echo "make export     MODEL=…   QONNX (+ NIR) into the run folder"
	@echo "make rtl        MODEL=… [P=] [Q=]   Verilog into build/<name>/rtl/"
	@echo "make lint       MODEL=… [P=] [Q=]   rtl, then verilator --lint-only -Wall"
	@echo "make hls        MODEL=…   hls4ml project, checked in C simulation"
	@echo "make hls-synth  MODEL=…   the Vitis HLS flow (needs Vitis HLS)"
	@echo "make sim        pytest sim/ (cocotb + Verilator testbenches)"
	@echo "make sim-batch  MODEL=… [N=] [P=] [Q=] [FILES=]   many samples through the RTL"
	@echo "make synth      MODEL=… [TARGET=ecp5|ice40|xc7] [DEVICE=] [FREQ=] [P=] [Q=]"
	@echo "make bench      MODEL=… [TARGET=] [P=] [Q=]   the design-point sweep and Pareto plot"
	@echo "make board      MODEL=… [BOARD=ulx3s-85f|icebreaker|…] [BAUD=] [P=] [Q=]   a bitstream with the UART event interface"
	@echo "make run-board  MODEL=… [PORT=/dev/ttyUSB0] [BAUD=] [N=]   test samples through a programmed board"
	@echo "make clean      remove build/"
	@echo "Variables: MODEL=$(MODEL); P, Q, N, TARGET, DEVICE, FREQ, FILES empty = the command's default"
	@echo "Outside make: . .venv/bin/activate, then snn2fpga COMMAND --help"

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3.11 -m venv .venv || python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e .
	touch $(STAMP)

demo: setup
	$(S2F) train
	$(MAKE) export rtl lint hls MODEL=$(MODEL)
	$(MAKE) sim-batch MODEL=$(MODEL) N=200
	$(MAKE) synth bench MODEL=$(MODEL)

test: setup
	$(PY) -m pytest tests sim

train: setup
	$(S2F) train

export: setup
	$(S2F) export $(MODEL)

rtl: setup
	$(S2F) rtl $(MODEL) $(POINT)

lint: rtl
	$(S2F) lint build/$(NAME)/rtl

hls: setup
	$(S2F) hls $(MODEL)

# Needs Vitis HLS on PATH (not available on this project's machines; docs/hls.md).
hls-synth: setup
	$(S2F) hls $(MODEL) --synth

# cocotb + Verilator testbenches (docs/sim.md); builds are cached under build/sim/
sim: setup
	$(PY) -m pytest sim

sim-batch: setup
	$(S2F) sim-batch $(MODEL) $(POINT) $(if $(N),--n $(N)) $(if $(FILES),--files $(FILES))

synth: setup
	$(S2F) synth $(MODEL) $(SYNTH_ARGS)

bench: setup
	$(S2F) bench $(MODEL) $(SYNTH_ARGS)

board: setup
	$(S2F) board $(MODEL) --board $(BOARD) $(POINT) $(if $(BAUD),--baud $(BAUD))

run-board: setup
	$(S2F) run-board $(MODEL) --port $(PORT) $(if $(BAUD),--baud $(BAUD)) $(if $(N),--n $(N))

clean:
	rm -rf build
