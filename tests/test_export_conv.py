"""QONNX export of conv and OR-pool layers: qonnx execution == golden model, exact round trip, clear refusals."""

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from onnx_edit import node, set_attr, set_init, set_prop
from snn2fpga.core.contract import LIFParams
from snn2fpga.core.golden import ConvLayer, GoldenNetwork, PoolLayer, QuantLayer, random_arch_network, random_network
from snn2fpga.core.maps import MapShape
from snn2fpga.export import ExportError, ModelFileError, UnsupportedModelError, export_network, load_network, run_qonnx
from snn2fpga.export.testing import random_spikes

STEPS = 6

# (input map, arch, weights, LIF, bias): together every weight quantizer, membrane quantizer, leak and IF,
# both resets, bias, stride 2, padding, non-square kernels, pools with a remainder, a pool first,
# conv→conv, and conv→pool→conv→pool→dense.
CASES = {
    "binary-ternary-pool-remainder": (MapShape(2, 9, 11), "4c3-p2-fc6", "binary", LIFParams(3, 2, "subtract", "ternary", 2, 10), True),
    "ternary-int8-IF-stride2-pad-nonsquare": (MapShape(2, 9, 8), "3c3x2s2p1-p2-fc5", "ternary", LIFParams(2, None, "zero", "int8", 1, 12), False),
    "int2-full-pool3": (MapShape(1, 7, 8), "2c2x3p1-p3", "int2", LIFParams(1, 1, "subtract", "full", 1, 10), True),
    "int4-int4-two-conv-pool-dense": (MapShape(2, 12, 13), "3c3p1-p2-4c2-p2-fc8", "int4", LIFParams(6, 3, "zero", "int4", 2, 14), True),
    "int8-ternary-IF-stride2": (MapShape(1, 11, 12), "2c5x3s2-fc7", "int8", LIFParams(60, None, "subtract", "ternary", 40, 16), True),
    "int3-int6-conv-conv": (MapShape(2, 8, 8), "4c3s2p1-3c3p1-fc6", "int3", LIFParams(4, 2, "zero", "int6", 1, 12), False),
    "int6-full-pool-first": (MapShape(2, 10, 10), "p2-3c3p1", "int6", LIFParams(20, 4, "subtract", "full", 1, 16), True),
}


def assert_same(got, want, what=""):
    """Every layer's spikes (pools included) and membrane codes at every step, the counts and the class are equal."""
    assert len(got.spikes) == len(want.spikes)
    for i, (a, b) in enumerate(zip(got.spikes, want.spikes)):
        bad = np.argwhere(a != b)
        assert a.shape == b.shape and len(bad) == 0, f"{what} layer {i}: {len(bad)} spike mismatches, first {bad[:1].tolist()}"
    for i, (a, b) in enumerate(zip(got.membranes, want.membranes)):
        assert a.shape == b.shape and np.array_equal(a, b), f"{what} layer {i}: membrane codes differ"
    assert np.array_equal(got.counts, want.counts) and np.array_equal(got.label, want.label)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Each case's network and its exported file."""
    out = tmp_path_factory.mktemp("conv")
    files = {}
    for name, (shape, arch, weights, lif, bias) in CASES.items():
        net = random_arch_network(shape, arch, 4, weights, lif, seed=7, with_bias=bias)
        files[name] = (net, export_network(net, out / f"{name}.qonnx", steps=STEPS))
    return files


@pytest.mark.parametrize("case", list(CASES))
def test_conv_qonnx_equals_golden(exported, case):
    net, path = exported[case]
    x = random_spikes(24, STEPS, net.n_in, rate=0.3, seed=3)
    want = net.run(x)
    got = run_qonnx(path, x)
    assert_same(got, want, case)
    for i, s in enumerate(want.spikes):  # the comparison sees both decisions in every layer
        assert 0 < s.mean() < 1, f"{case} layer {i} ({net.layers[i].kind}) spike rate {s.mean()}"
    for i in net.lif_layers:
        assert len(np.unique(want.membranes[i])) > 1, f"{case} layer {i}: constant membranes"


@pytest.mark.parametrize("case", list(CASES))
def test_conv_round_trip_is_exact(exported, case):
    net, path = exported[case]
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    loaded, meta = load_network(path)
    assert loaded.to_dict() == net.to_dict()
    assert meta.layer_kinds == tuple(layer.kind for layer in net.layers) and meta.format_version == 2
    assert meta.layer_sizes == tuple(net.layers[i].n_out for i in net.lif_layers)


def test_cleanup_keeps_meaning(exported):
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.cleanup import cleanup_model

    from snn2fpga.export import parse_model

    net, path = exported["int4-int4-two-conv-pool-dense"]
    cleaned = cleanup_model(ModelWrapper(str(path)))
    assert cleaned.graph.input[0].name == "global_in"  # cleanup did rewrite the graph
    loaded, _ = parse_model(cleaned.model, "cleaned")
    assert loaded.to_dict() == net.to_dict()
    x = random_spikes(8, STEPS, net.n_in, rate=0.3, seed=5)
    assert_same(run_qonnx(cleaned, x), net.run(x), "after cleanup")


def test_graph_layout(exported):
    """Positions of docs/export.md: spikes of every layer (pools too), then the LIF layers' codes; flat tensors."""
    net, path = exported["int4-int4-two-conv-pool-dense"]
    m = onnx.load(str(path))
    lifs = net.lif_layers  # layers 0, 2, 4, 5 (1 and 3 are pools)
    assert [i.name for i in m.graph.input] == ["spikes_in"] + [f"mem_in_{i}" for i in lifs]
    assert [o.name for o in m.graph.output] == [f"spikes_{i}" for i in range(6)] + [f"mem_out_{i}" for i in lifs]
    dims = [[d.dim_value for d in v.type.tensor_type.shape.dim] for v in list(m.graph.input) + list(m.graph.output)]
    assert all(len(d) == 2 and d[0] == 1 for d in dims)
    def layer_ops(prefix, lif):
        return [n.op_type for n in m.graph.node if n.name.startswith(prefix) or n.name == lif]

    assert layer_ops("conv0_", "lif0") == ["Reshape", "Quant", "Conv", "Div", "Add", "Flatten", "LIF"]
    assert layer_ops("pool1_", "") == ["Reshape", "MaxPool", "Flatten"]
    assert layer_ops("fc4_", "lif4") == ["Quant", "MatMul", "Div", "Add", "LIF"]
    fc4 = node(m, "fc4_matmul")
    assert fc4.input[0] == "spikes_3"  # the dense layer takes the pool's flat output as it is
    conv = next(n for n in m.graph.node if n.op_type == "Conv")
    attrs = {a.name: list(helper.get_attribute_value(a)) for a in conv.attribute if a.name != "group"}
    assert attrs == {"kernel_shape": [3, 3], "strides": [1, 1], "pads": [1, 1, 1, 1], "dilations": [1, 1]}
    shape = next(t for t in m.graph.initializer if t.name == "conv0_shape")
    assert numpy_helper.to_array(shape).tolist() == [-1, 2, 12, 13]


def test_conv_with_power_of_two_scale(tmp_path):
    """A trained int layer's scale 2^-k: the Quant node carries it and the Div folds it back exactly."""
    from snn2fpga.export.qonnx_export import build_model, make_meta, save_model

    net = random_arch_network(MapShape(2, 7, 7), "3c3-fc5", 3, "int4", LIFParams(5, 2, "zero", "int8", 1, 14), seed=1, with_bias=True)
    meta = make_meta(net, [2.0**-3, 2.0**-5, 2.0**-2], STEPS, 1)
    path = save_model(build_model(net, meta), tmp_path / "scaled.qonnx")
    loaded, meta2 = load_network(path)
    assert loaded.to_dict() == net.to_dict() and meta2.weight_scales == (2.0**-3, 2.0**-5, 2.0**-2)
    x = random_spikes(8, STEPS, net.n_in, rate=0.3, seed=2)
    assert_same(run_qonnx(path, x), net.run(x))


def test_dense_file_keeps_version_1():
    """A dense-only network is written as before: no layer_kinds, format_version 1."""
    import tempfile
    from pathlib import Path

    net = random_network([10, 6, 3], "ternary", LIFParams(2, 1, "zero", "ternary", 1, 8), seed=0)
    with tempfile.TemporaryDirectory() as d:
        m = onnx.load(str(export_network(net, Path(d) / "d.qonnx", steps=3)))
    props = {p.key: p.value for p in m.metadata_props}
    assert "snn2fpga.layer_kinds" not in props and props["snn2fpga.format_version"] == "1"


# --- refusals: a clear error naming the node -------------------------------------------------------------


@pytest.fixture(scope="module")
def proto(exported):
    return onnx.load(str(exported["int4-int4-two-conv-pool-dense"][1]))


BAD = {
    "grouped conv": (lambda m: set_attr(node(m, "conv0_conv"), "group", 3), UnsupportedModelError, ["conv0_conv", "group=3"]),
    "dilated conv": (lambda m: set_attr(node(m, "conv0_conv"), "dilations", [2, 2]), UnsupportedModelError, ["conv0_conv", "dilations"]),
    "uneven pads": (lambda m: set_attr(node(m, "conv0_conv"), "pads", [1, 0, 1, 0]), UnsupportedModelError, ["conv0_conv", "pads"]),
    "two strides": (lambda m: set_attr(node(m, "conv0_conv"), "strides", [1, 2]), UnsupportedModelError, ["conv0_conv", "strides"]),
    "auto_pad": (lambda m: set_attr(node(m, "conv0_conv"), "auto_pad", "SAME_UPPER"), UnsupportedModelError, ["conv0_conv", "auto_pad"]),
    "overlapping pool": (lambda m: set_attr(node(m, "pool1_maxpool"), "strides", [1, 1]), UnsupportedModelError, ["pool1_maxpool", "stride k"]),
    "ceil pool": (lambda m: set_attr(node(m, "pool1_maxpool"), "ceil_mode", 1), UnsupportedModelError, ["pool1_maxpool", "ceil_mode"]),
    "padded pool": (lambda m: set_attr(node(m, "pool3_maxpool"), "pads", [1, 1, 1, 1]), UnsupportedModelError, ["pool3_maxpool", "pads"]),
    "flatten axis": (lambda m: set_attr(node(m, "conv2_flatten"), "axis", 2), UnsupportedModelError, ["conv2_flatten", "axis 2"]),
    "reshape shape": (lambda m: set_init(m, "conv2_shape", [-1, 3, 2, 18], np.int64), ModelFileError, ["layer 2", "68 neurons"]),
    "reshape size": (lambda m: set_init(m, "pool1_shape", [-1, 3, 12, 12], np.int64), UnsupportedModelError, ["pool1_reshape", "[-1, 3, 12, 12]"]),
    "bias shape": (lambda m: set_init(m, "conv0_bias", np.zeros(3)), ModelFileError, ["layer 0", "[C_out, 1, 1]"]),
    "kinds metadata": (lambda m: set_prop(m, "snn2fpga.layer_kinds", '["conv", "pool", "conv", "pool", "dense", "conv"]'), ModelFileError, ["layer_kinds"]),
    "weights 2-D": (lambda m: set_init(m, "conv2_weight", np.zeros((4, 12))), ModelFileError, ["layer 2", "expected 4-D"]),
}


@pytest.mark.parametrize("bad", list(BAD))
def test_unsupported_conv_layouts_are_refused(tmp_path, proto, bad):
    change, err, words = BAD[bad]
    m = onnx.ModelProto()
    m.CopyFrom(proto)
    change(m)
    path = tmp_path / "bad.qonnx"
    onnx.save(m, str(path))
    with pytest.raises(err) as info:
        load_network(path)
    msg = str(info.value)
    assert isinstance(info.value, ExportError) and str(path) in msg and len(msg.splitlines()) == 1, msg
    for w in words:
        assert w in msg, msg


@pytest.mark.parametrize("case", list(CASES))
def test_nir_round_trip_of_conv_nets(tmp_path, case):
    from snn2fpga.export.nir_bridge import read_nir, write_nir

    shape, arch, weights, lif, bias = CASES[case]
    net = random_arch_network(shape, arch, 4, weights, lif, seed=7, with_bias=bias)
    path = write_nir(net, tmp_path / "net.nir", scales=[0.25] * len(net.lif_layers), dt=1e-3, steps=STEPS)
    assert read_nir(path).to_dict() == net.to_dict()


def test_nir_graph_of_conv_and_pool():
    import nir

    from snn2fpga.export.nir_bridge import to_nir

    net = random_arch_network(MapShape(2, 12, 13), "3c3p1-p2-4c2x3s2-p2-fc8", 4, "int4", LIFParams(6, None, "zero", "full", 1, 16), seed=7)
    g = to_nir(net)
    kinds = {name: type(node).__name__ for name, node in g.nodes.items()}
    assert [kinds[b] for _, b in g.edges] == ["Conv2d", "IF", "SumPool2d", "IF", "Conv2d", "IF", "SumPool2d", "IF", "Flatten",
                                              "Affine", "IF", "Affine", "IF", "Output"]
    assert list(g.nodes["conv2"].output_type["output"]) == [4, 3, 2] and list(g.nodes["or3"].output_type["output"]) == [4, 1, 1]
    assert np.all(g.nodes["or1"].v_threshold == 0.5) and np.all(g.nodes["or1"].r == 1.0)  # sum ≥ 1 fires: the OR
    assert isinstance(g.nodes["flat4"], nir.Flatten) and g.nodes["flat4"].start_dim == 0  # NIR's dims exclude the batch


def test_foreign_conv_nir_without_metadata():
    """A conv NIR graph as another tool would write it (no snn2fpga metadata) maps onto the same network."""
    from snn2fpga.export.nir_bridge import from_nir, to_nir

    lif = LIFParams(5, 2, "zero", "full", 1, 16)
    net = random_arch_network(MapShape(2, 9, 8), "3c3x2s2p1-p2-fc6", 4, "int4", lif, seed=3, with_bias=True)
    g = to_nir(net, scales=[0.5] * 3, dt=1e-4)
    for n in g.nodes.values():
        n.metadata = {}
    back = from_nir(g, dt=1e-4)
    x = random_spikes(16, STEPS, net.n_in, rate=0.3, seed=1)
    assert_same(back.run(x), net.run(x))
    assert [layer.kind for layer in back.layers] == ["conv", "pool", "dense", "dense"]


def test_foreign_pool_that_is_not_an_or_is_refused():
    from snn2fpga.export.nir_bridge import from_nir, to_nir

    net = random_arch_network(MapShape(1, 8, 8), "2c3-p2", 3, "ternary", LIFParams(2, None, "zero", "full", 1, 12), seed=0)
    g = to_nir(net)
    g.nodes["or1"].v_threshold = np.full(g.nodes["or1"].v_threshold.shape, 1.5, np.float32)  # fires on a sum ≥ 2
    with pytest.raises(UnsupportedModelError, match=r"pool1 → or1.*an OR needs 0 ≤ v_threshold < 1"):
        from_nir(g)


def test_norse_runs_the_conv_nir_like_the_golden_model():
    """Norse's own reading of the NIR graph (IF neurons, reset to zero, full membrane) gives the golden spikes."""
    import torch

    norse = pytest.importorskip("norse.torch", reason="Norse is a test extra (pip install .[nir])")
    from snn2fpga.export.nir_bridge import to_nir

    lif = LIFParams(6, None, "zero", "full", 1, 16)  # Norse's IF: no leak shift to floor, no stored-code rounding
    net = random_arch_network(MapShape(2, 12, 13), "3c3p1-p2-4c2x3s2-p2-fc8", 4, "int4", lif, seed=7, with_bias=True)
    g = to_nir(net, dt=1.0)
    g.nodes["flat4"].start_dim = 1  # Norse hands start_dim to torch.nn.Flatten, whose dims include the batch
    model = norse.from_nir(g, dt=1.0)
    x = random_spikes(16, STEPS, net.n_in, rate=0.3, seed=1)
    want = net.run(x)
    state, got = None, []
    with torch.no_grad():
        for t in range(STEPS):
            y, state = model(torch.from_numpy(x[:, t].reshape(16, 2, 12, 13)).float(), state)
            got.append(y.numpy())
    assert np.array_equal(np.stack(got, 1), want.spikes[-1])
    assert 0 < want.spikes[-1].mean() < 1 and all(0 < s.mean() < 1 for s in want.spikes)


def test_hand_built_network_matches_expansion(tmp_path):
    """An explicit conv → pool → dense chain (not from random_arch_network) exports and runs exactly."""
    rng = np.random.default_rng(4)
    lif = LIFParams(2, 1, "subtract", "int4", 1, 10)
    conv = ConvLayer(rng.integers(-1, 2, (2, 2, 2, 3)), "ternary", lif, MapShape(2, 5, 6), stride=1, padding=1, bias=[1, -1])
    pool = PoolLayer(conv.out_shape, 2)
    dense = QuantLayer(rng.integers(-1, 2, (3, pool.n_out)), "ternary", lif)
    net = GoldenNetwork([conv, pool, dense])
    path = export_network(net, tmp_path / "h.qonnx", steps=4)
    x = random_spikes(6, 4, net.n_in, rate=0.4, seed=1)
    assert_same(run_qonnx(path, x), net.run(x))


# --- a trained run whose model has conv layers ---------------------------------------------------------------


@pytest.fixture()
def conv_run(tmp_path, monkeypatch):
    """A run folder whose model (as load_model returns it) is a QuantConv2d → QuantLinear network at scale 2^-3."""
    import torch

    import snn2fpga.train.trainer as trainer
    from snn2fpga.export.testing import make_run
    from snn2fpga.export.weights import exact_conv, exact_linear

    net = random_arch_network(MapShape(2, 8, 8), "3c3p1-p2-fc6", 4, "int4", LIFParams(5, 2, "zero", "int8", 1, 14), seed=2, with_bias=True)
    scale = 2.0**-3

    class ConvModel(torch.nn.Module):
        """What a trained conv QuantSNN offers the export: Brevitas layers in forward order and to_golden()."""

        def __init__(self):
            super().__init__()
            self.convs = torch.nn.ModuleList([exact_conv(net.layers[0], scale)])
            self.fcs = torch.nn.ModuleList([exact_linear(net.layers[i], scale) for i in (2, 3)])

        def to_golden(self):
            return net

    run = make_run(tmp_path / "convrun", random_spikes(8, 4, 10, rate=0.2), n_classes=3, steps=4, hidden=[5])
    real = trainer.load_model
    monkeypatch.setattr(trainer, "load_model", lambda run_dir: (ConvModel(), real(run_dir)[1]))
    return run, net


def test_export_of_a_conv_run(conv_run, capsys):
    from snn2fpga.cli import main as cli
    from snn2fpga.export.nir_bridge import read_nir

    run, net = conv_run
    assert cli(["export", str(run)]) == 0  # exports, reads back and runs the check, writes model.nir
    assert "checked against the golden model" in capsys.readouterr().out
    loaded, meta = load_network(run)
    assert loaded.to_dict() == net.to_dict() and meta.weight_scales == (2.0**-3,) * 3 and meta.checkpoint_sha256
    assert read_nir(run / "model.nir").to_dict() == net.to_dict()


def test_resolve_reexports_a_conv_run(conv_run, capsys):
    from snn2fpga.export import resolve_model

    run, net = conv_run
    first = resolve_model(run)
    assert "missing: exporting" in capsys.readouterr().out and first.network.to_dict() == net.to_dict()
    assert resolve_model(run).path == first.path and capsys.readouterr().out == ""
    with open(run / "model.pt", "ab") as f:  # another checkpoint beside the exported file
        f.write(b"\0")
    again = resolve_model(run)
    assert "another checkpoint" in capsys.readouterr().out and again.network.to_dict() == net.to_dict()


def test_inference_cost_of_conv_and_pool(exported):
    from snn2fpga.export import inference_cost

    net, path = exported["int4-int4-two-conv-pool-dense"]  # 2×12×13 → 3c3p1 → p2 → 4c2 → p2 → fc8 → fc4
    cost = inference_cost(path)
    layers = cost["layers"]
    assert [l["kind"] for l in layers] == ["conv", "pool", "conv", "pool", "dense", "dense"]
    assert [l["macs"] for l in layers] == [3 * 12 * 13 * 2 * 9, 0, 4 * 5 * 5 * 3 * 4, 0, 8 * 4 * 2 * 2, 4 * 8]
    assert layers[0]["weight_bits"] == 3 * 2 * 3 * 3 * 4 and layers[1]["state_bits"] == 0
    assert cost["qonnx"]["total_cost"]["total_macs"] == cost["per_step"]["macs"]  # qonnx counts Conv and MatMul alike


def test_a_conv_nir_file_is_a_model(tmp_path):
    """A hardware command given MODEL.nir of a conv network gets the same network through the .qonnx beside it."""
    from snn2fpga.export import resolve_model
    from snn2fpga.export.nir_bridge import write_nir

    net = random_arch_network(MapShape(2, 8, 8), "3c3p1-p2-fc6", 4, "int8", LIFParams(30, 3, "subtract", "int6", 2, 16), seed=5, with_bias=True)
    path = write_nir(net, tmp_path / "conv.nir", scales=[2.0**-4] * 3, steps=STEPS)
    m = resolve_model(path)
    assert m.path == tmp_path / "conv.qonnx" and m.network.to_dict() == net.to_dict() and m.steps == STEPS


def test_nmnist_sized_conv_export_time_size_and_speed(tmp_path, capsys):
    """2×34×34 → 8c5-p2-16c5-p2 → 10, ternary/ternary, T = 10: export time, file size, qonnx vs golden per sample."""
    import time

    lif = LIFParams(3, 2, "subtract", "ternary", 2, 12)
    net = random_arch_network(MapShape(2, 34, 34), "8c5-p2-16c5-p2", 10, "ternary", lif, seed=0)
    t0 = time.perf_counter()
    path = export_network(net, tmp_path / "conv.qonnx", steps=10)
    export_s = time.perf_counter() - t0
    x = random_spikes(16, 10, net.n_in, rate=0.05, seed=1)
    t0 = time.perf_counter()
    want = net.run(x)
    golden_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    got = run_qonnx(path, x)
    qonnx_s = time.perf_counter() - t0
    assert_same(got, want)
    size = path.stat().st_size
    with capsys.disabled():
        print(f"\n[export] 2×34×34 8c5-p2-16c5-p2-10 ternary/ternary: export {export_s:.2f} s, {size} bytes; "
              f"per sample qonnx {qonnx_s / 16 * 1e3:.0f} ms, golden {golden_s / 16 * 1e3:.0f} ms ({qonnx_s / golden_s:.1f}×)")
    assert size < 50_000 and export_s < 30
