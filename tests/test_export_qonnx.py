"""QONNX export: execution == golden model spike for spike, checker + cleanup, load round trip, size and time."""

import itertools
import time

import numpy as np
import onnx
import pytest
import torch

from snn2fpga.export import export_model, export_network, load_network, run_qonnx
from snn2fpga.export.testing import make_run, random_spikes
from snn2fpga.core.contract import LIFParams
from snn2fpga.core.golden import random_network
from snn2fpga.train.trainer import load_model

WEIGHTS = ["binary", "ternary", "int4", "int8"]
MEMBRANES = ["ternary", "int8", "full"]
SAMPLES = 200


@pytest.fixture(scope="module")
def data():
    """≥200 test samples of the embedded dataset (T=10, pool 2: 578 inputs) and calibration spikes."""
    from snn2fpga.train.data import load_dataset

    d = load_dataset("saccade-digits", None, steps=10, pool=2)
    assert len(d.test_x) >= SAMPLES and d.n_in == 578
    return d


def assert_same(got, want, what=""):
    """Every layer's spikes and codes at every step, the counts and the class are equal."""
    for i, (a, b) in enumerate(zip(got.spikes, want.spikes)):
        bad = np.argwhere(a != b)
        assert len(bad) == 0, f"{what} layer {i}: {len(bad)} spike mismatches, first (sample, step, neuron) {bad[0].tolist()}"
    for i, (a, b) in enumerate(zip(got.membranes, want.membranes)):
        assert np.array_equal(a, b), f"{what} layer {i}: membrane codes differ"
    assert np.array_equal(got.counts, want.counts) and np.array_equal(got.label, want.label)


@pytest.mark.parametrize("weights, membrane", list(itertools.product(WEIGHTS, MEMBRANES)))
def test_qonnx_equals_golden_on_dataset(tmp_path, data, weights, membrane):
    run = make_run(tmp_path / "run", data.train_x[:256], weights=weights, membrane=membrane)
    path = export_model(run, check=False)
    model, _ = load_model(run)
    x = data.test_x[:SAMPLES]
    want = model.to_golden().run(x)
    got = run_qonnx(path, x)
    assert_same(got, want, f"{weights}/{membrane}")
    assert all(int(s.sum()) > 0 for s in want.spikes), "the comparison must see spikes in every layer"
    assert got.spikes[0].shape == (SAMPLES, 10, 128) and got.spikes[1].shape == (SAMPLES, 10, 10)


@pytest.mark.parametrize(
    "weights, lif, bias",
    [
        ("ternary", LIFParams(4, None, "subtract", "ternary", 2, 12), False),  # IF (no leak)
        ("int4", LIFParams(9, 3, "zero", "int8", 1, 16), True),  # reset to zero, with bias
        ("binary", LIFParams(3, 1, "zero", "full", 1, 10), True),  # saturating 10-bit accumulator
        ("int8", LIFParams(200, None, "zero", "int4", 100, 16), True),
    ],
)
def test_random_networks(tmp_path, weights, lif, bias):
    net = random_network([40, 24, 16, 6], weights, lif, seed=3, with_bias=bias)
    path = export_network(net, tmp_path / "net.qonnx", steps=12)
    x = random_spikes(64, 12, 40, rate=0.3, seed=1)
    want = net.run(x)
    assert_same(run_qonnx(path, x), want)
    assert sum(int(s.sum()) for s in want.spikes) > 0
    loaded, meta = load_network(path)
    assert loaded.to_dict() == net.to_dict() and meta.steps == 12


def test_checker_and_cleanup_keep_meaning(tmp_path, data):
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.cleanup import cleanup_model

    run = make_run(tmp_path / "run", data.train_x[:256], weights="int4", membrane="ternary", hidden=[32, 16])
    path = export_model(run)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    cleaned = cleanup_model(ModelWrapper(str(path)))
    onnx.checker.check_model(cleaned.model)
    assert [i.name for i in cleaned.graph.input][0] == "global_in"  # cleanup did rename the tensors
    x = data.test_x[:64]
    assert_same(run_qonnx(cleaned, x), run_qonnx(path, x), "after cleanup")
    net, meta = load_network(path)
    from snn2fpga.export.loader import parse_model

    net2, meta2 = parse_model(cleaned.model)
    assert net2.to_dict() == net.to_dict() and meta2 == meta


def test_load_round_trip_equals_to_golden(tmp_path, data):
    run = make_run(tmp_path / "run", data.train_x[:256], weights="int8", membrane="int8", leak=3, reset="zero")
    export_model(run)
    model, cfg = load_model(run)
    net, meta = load_network(run)  # the run folder works as well as the file
    want = model.to_golden()
    for a, b in zip(net.layers, want.layers):
        assert np.array_equal(a.weights, b.weights) and np.array_equal(a.bias, b.bias)
        assert a.lif == b.lif and a.weight_quant == b.weight_quant
    with torch.no_grad():
        scales = tuple(float(model.scale(i)) for i in range(2))
    assert meta.weight_scales == scales and all(s < 1 for s in scales)  # int8 layers carry a real 2^-k scale
    assert (meta.steps, meta.pool, meta.dataset, meta.n_in, meta.n_classes) == (10, 2, "saccade-digits", 578, 10)
    assert meta.sensor_size == (34, 34, 2) and meta.weight_quants == ("int8", "int8") and meta.layer_sizes == (128, 10)


def test_graph_layout(tmp_path):
    net = random_network([6, 4, 3], "ternary", LIFParams(2, 2, "subtract", "int8", 1, 16), seed=0, with_bias=True)
    model = onnx.load(str(export_network(net, tmp_path / "n.qonnx", steps=4)))
    g = model.graph
    assert [i.name for i in g.input] == ["spikes_in", "mem_in_0", "mem_in_1"]
    assert [o.name for o in g.output] == ["spikes_0", "spikes_1", "mem_out_0", "mem_out_1"]
    assert [n.op_type for n in g.node] == ["Quant", "Quant", "MatMul", "Div", "Add", "LIF", "MatMul", "Div", "Add", "LIF"]
    assert {o.domain: o.version for o in model.opset_import}["snn2fpga.export.lif_op"] == 1
    lif = g.node[5]
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in lif.attribute}
    assert attrs == {"threshold": 2, "leak_shift": 2, "reset": b"subtract", "membrane": b"int8", "delta": 1, "acc_bits": 16}
    props = {p.key for p in model.metadata_props}
    assert {"snn2fpga.steps", "snn2fpga.pool", "snn2fpga.dataset", "snn2fpga.weight_quants"} <= props


def test_default_model_export_time_and_size(tmp_path, data, capsys):
    run = make_run(tmp_path / "run", data.train_x[:256], weights="ternary", membrane="ternary")
    t0 = time.perf_counter()
    path = export_model(run)  # includes reading back and the spike check
    seconds = time.perf_counter() - t0
    size = path.stat().st_size
    with capsys.disabled():
        print(f"\n[export] 578→128→10 ternary/ternary: {seconds:.2f} s, {size / 1024:.1f} KiB")
    assert size < 400_000 and seconds < 30
