"""`python -m rtl.figures`: the README's RTL table from a small exported run."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from snn2fpga.export import export_model
from snn2fpga.export.testing import make_run
from snn2fpga.rtl.cycle_model import CycleParams, predict_cycles, spike_counts
from snn2fpga.rtl.figures import figures, markdown, with_membrane
from snn2fpga.train.data import load_dataset
from snn2fpga.core.golden import random_network
from snn2fpga.core.contract import LIFParams


def test_with_membrane_keeps_weights_and_changes_state_width():
    net = random_network([12, 6, 3], "ternary", LIFParams(5, 2, "subtract", "ternary", 3, 12), seed=1)
    wide = with_membrane(net, "int8")
    assert [layer.lif.membrane for layer in wide.layers] == ["int8", "int8"]
    assert all(np.array_equal(a.weights, b.weights) and a.lif.threshold == b.lif.threshold
               for a, b in zip(net.layers, wide.layers))


def test_figures_of_a_small_run(tmp_path: Path):
    data = load_dataset("saccade-digits", None, steps=4, pool=2)
    run = make_run(tmp_path / "run", data.train_x[:32], hidden=[8], steps=4, pool=2, acc_bits=12)
    export_model(run)
    f = figures(run, lanes=(1, 8))
    # N·m by hand: 8 + 10 neurons, ternary 2 bits, int8 8 bits, full A = 12 bits
    assert f["membrane_state_bits"] == {"ternary": 36, "int8": 144, "full": 216}
    assert f["lanes"][1]["rows"] == [8, 10] and f["lanes"][8]["rows"] == [1, 2]
    assert f["lanes"][8]["memory_bits"]["weight_codes"] == (578 * 8 + 8 * 10) * 2
    # the cycle model over the whole test set: P = 8 is faster; a sample checked by hand
    c1, c8 = f["lanes"][1]["cycles"], f["lanes"][8]["cycles"]
    assert c8["mean"] < c1["mean"] and c1["min"] <= c1["mean"] <= c1["max"]
    from snn2fpga.export import load_network

    net, _ = load_network(run / "model.qonnx")
    x = data.test_x
    one = predict_cycles(CycleParams.from_network(net, 8, 4), spike_counts(x[:1], net.run(x[:1])))[0]
    assert c8["min"] <= one <= c8["max"]
    table = markdown(f)
    assert table.count("\n| 1 |") == 1 and table.count("\n| 8 |") == 1 and "360 samples" in table
