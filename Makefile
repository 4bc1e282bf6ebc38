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

.PHONY: help setup demo clean-demo test train export rtl hls hls-synth sim sim-batch synth bench board run-board summary lint clean

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
	@echo "make summary    MODEL=…   one table of what was measured, and where each artifact is"
	@echo "make clean      remove build/;  make clean-demo: remove the default run and its build/"
	@echo "Variables: MODEL=$(MODEL); P, Q, N, TARGET, DEVICE, FREQ, FILES empty = the command's default"
	@echo "Outside make: . .venv/bin/activate, then snn2fpga COMMAND --help"

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3.11 -m venv .venv || python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e .[nir]  # the nir extra: snnTorch and Norse for the import tests
	touch $(STAMP)

# The demo tells its story: a banner per stage with its expected time on a 2-core machine, and a
# summary table at the end. Training refuses to clobber an earlier demo run: `make clean-demo` first.
banner = @printf '\n==== %s ====\n' $(1)

demo: setup
	$(call banner,"1/8 train: the default model on saccade-digits; 40 epochs (about 2 min; +1 min to generate the dataset the first time)")
	$(S2F) train
	$(call banner,"2/8 export: QONNX + NIR; read back and checked against the golden model (about 10 s)")
	$(S2F) export $(MODEL)
	$(call banner,"3/8 rtl: Amaranth -> Verilog at the default design point (about 5 s)")
	$(S2F) rtl $(MODEL) $(POINT)
	$(call banner,"4/8 lint: verilator --lint-only -Wall (about 10 s)")
	$(S2F) lint build/$(NAME)/rtl
	$(call banner,"5/8 hls: hls4ml project; compiled and checked in C simulation on 200 test samples (about 1-2 min)")
	$(S2F) hls $(MODEL)
	$(call banner,"6/8 sim-batch: 200 test samples through the RTL under Verilator (about 30 s)")
	$(S2F) sim-batch $(MODEL) $(POINT) --n 200
	$(call banner,"7/8 synth: Yosys + nextpnr for the ECP5-25F (about 4 min; tool phases every 30 s)")
	$(S2F) synth $(MODEL) $(SYNTH_ARGS)
	$(call banner,"8/8 bench: 16 design points synthesized; two at a time (about 15 min)")
	$(S2F) bench $(MODEL) $(SYNTH_ARGS)
	$(call banner,"summary")
	$(S2F) summary $(MODEL)

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

summary: setup
	$(S2F) summary $(MODEL)

board: setup
	$(S2F) board $(MODEL) --board $(BOARD) $(POINT) $(if $(BAUD),--baud $(BAUD))

run-board: setup
	$(S2F) run-board $(MODEL) --port $(PORT) $(if $(BAUD),--baud $(BAUD)) $(if $(N),--n $(N))

clean:
	rm -rf build

clean-demo:
	rm -rf $(MODEL) build/$(NAME)
