# One entry point per stage (DESIGN §2). Every target runs inside .venv, made by `make setup`.
PY      := .venv/bin/python
MODEL   ?= runs/saccade-digits-ternary-ternary
NAME    := $(notdir $(patsubst %/,%,$(MODEL)))
P       ?= 16
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
	$(MAKE) export rtl MODEL=$(MODEL)

test: setup
	$(PY) -m pytest tests sim

train: setup
	$(PY) train/run.py

export: setup
	$(PY) -m export $(MODEL)

rtl: setup
	$(PY) -m rtl $(MODEL) --lanes $(P)

clean:
	rm -rf build runs/.cache
