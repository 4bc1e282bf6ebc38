"""One held-out recording of each seed dataset (N-Cars, SHD, CIFAR10-DVS) through the RTL under Verilator.

The recordings are the byte-built stand-ins of tests/test_data_*.py, in each dataset's published
file layout, read by the project's readers and binned by the contract's input encoding; the
network is random (these tests check the reader → binning → hardware path, not accuracy).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from snn2fpga.core.contract import LIFParams
from snn2fpga.core.golden import random_network
from snn2fpga.sim.design import prepare_design
from snn2fpga.sim.plan import Phase
from snn2fpga.sim.reference import Expectations
from snn2fpga.sim.runner import run_cocotb
from snn2fpga.train.data import DataSource, default_pool

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the stand-in builders live with the reader tests
import test_data_cifar10dvs  # noqa: E402
import test_data_ncars  # noqa: E402
import test_data_shd  # noqa: E402

LIF = LIFParams(threshold=2, leak_shift=2, reset="subtract", membrane="ternary", delta=1, acc_bits=12)
STEPS, LANES, HIDDEN = 6, 16, 16

# dataset → (stand-in builder writing into a folder, test fraction, inputs after the default pooling, classes)
CASES = {
    "ncars": (lambda root: test_data_ncars.standin(root, {"train": 3, "test": 2}), 0.2, 2 * 25 * 30, 2),
    "shd": (lambda root: test_data_shd.standin(root, 4), 0.2, 700, 20),
    "cifar10-dvs": (lambda root: test_data_cifar10dvs.standin(root, 5), 0.2, 2 * 32 * 32, 10),
}


@pytest.mark.parametrize("dataset", sorted(CASES))
def test_a_recording_of_each_seed_dataset_through_the_rtl(dataset, tmp_path, monkeypatch):
    """Its held-out sample, every spike of both layers at every step and the cycle count, equal to the golden model."""
    build, fraction, n_in, classes = CASES[dataset]
    monkeypatch.setenv("SNN2FPGA_CACHE", str(tmp_path / "cache"))
    root = build(tmp_path / dataset)
    data = DataSource(dataset, str(root), seed=0, test_fraction=fraction, steps=STEPS, pool=default_pool(dataset)).load()
    x = data.test_x[:1]
    assert x.shape == (1, STEPS, n_in) and x.any(), "the reader gave a binned, non-empty recording"
    net = random_network([n_in, HIDDEN, classes], "ternary", LIF, seed=len(dataset))
    design = prepare_design(net, STEPS, LANES)
    expect = Expectations.from_golden(net, x, design.manifest.cycle_model, [f"{dataset} test 0"], data.test_y[:1])
    result = run_cocotb(design, expect, f"seed-{dataset}", [Phase("one", [0], timing=True)])
    assert result.passed, result.describe()
    report = result.reports["samples"]["one"]
    assert report["mismatches"] == 0 and report["cycles"]["equal_to_model"] == 1
    assert expect.spikes[0].any(), "the recording makes the hidden layer fire"
