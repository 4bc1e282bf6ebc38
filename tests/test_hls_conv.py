"""hls4ml Conv2D and MaxPooling2D with the LIF extension: C simulation against the golden model, every layer, every step.

Two small conv networks, each exported by export/ and compiled once (module-scoped):
- `mixed`: 2×10×10 → conv 3×3 p1 → conv 3×2 s2 p1 → pool 2 (a remainder row dropped) →
  dense → dense; its layers together cover binary, ternary and int4 weights, ternary, int4
  and full membranes, leak and none, both resets, bias, stride, padding, a non-square
  kernel, conv → conv, conv → pool and pool → dense (the flatten of a channels-last map);
- `random`: `core.random_arch_network` 2×8×8 "4c3-p2-4c3p1-fc6" + 5 classes, int8 conv at
  weight scale 2^-3 and int2 weights (codes −2) at 2^-1 (export's Div by the scale folded
  into the codes), pool → conv and conv → dense.
θ is set per layer from its currents so every layer fires at a useful rate.
"""

from __future__ import annotations

import numpy as np
import pytest

from snn2fpga.core.contract import LIFParams, default_delta
from snn2fpga.core.golden import GoldenNetwork, random_arch_network, random_codes
from snn2fpga.core.maps import MapShape

STEPS = 6

# per LIF layer of MIXED_ARCH: weight quantizer, membrane, leak shift, reset, bias
MIXED_ARCH = "4c3p1-6c3x2s2p1-p2-fc12"
MIXED = (
    ("binary", "ternary", 2, "subtract", True),
    ("ternary", "int4", None, "zero", False),
    ("int4", "full", 1, "zero", True),
    ("int3", "int8", None, "subtract", False),
)


def calibrated(net: GoldenNetwork, settings, x: np.ndarray, seed: int = 0) -> GoldenNetwork:
    """`net` with each LIF layer's weights redrawn for its quantizer and θ at the 80 % quantile of its currents."""
    rng = np.random.default_rng(seed)
    lif_layers = iter(settings)
    for layer in net.layers:
        if layer.lif is None:
            x = layer.spikes(x.reshape(-1, layer.n_in)).reshape(*x.shape[:2], -1)
            continue
        quant, membrane, leak, reset, bias = next(lif_layers)
        layer.weight_quant = quant
        layer.weights = random_codes(rng, quant, layer.weights.shape)
        layer.bias = rng.integers(-3, 4, size=layer.bias.shape) if bias else np.zeros_like(layer.bias)
        current = layer.current(x.reshape(-1, layer.n_in).astype(np.int64))
        theta = max(1, int(np.quantile(current, 0.8)))
        layer.lif = LIFParams(theta, leak, reset, membrane, default_delta(membrane, theta), 16)
        x = GoldenNetwork([layer]).run(x).spikes[0]
    return net


def _build(tmp, net: GoldenNetwork, x: np.ndarray, scales=None):
    """Export (weight scale 1, or `scales` per LIF layer: a Quant of codes × s and a Div by s), then build."""
    from snn2fpga import export
    from snn2fpga.export.qonnx_export import build_model, make_meta, save_model
    from snn2fpga.hls.build import build_hls

    if scales is None:
        path = export.export_network(net, tmp / "model.qonnx", steps=STEPS)
    else:
        path = save_model(build_model(net, make_meta(net, scales, STEPS, 1)), tmp / "model.qonnx")
    return build_hls(path, tmp / "hls", tb_spikes=x[:2])


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    shape = MapShape(2, 10, 10)
    rng = np.random.default_rng(1)
    calib = (rng.random((32, STEPS, shape.size)) < 0.3).astype(np.uint8)
    placeholder = LIFParams(1, None, "subtract", "full", 1, 16)
    net = random_arch_network(shape, MIXED_ARCH, 5, "int8", placeholder, seed=3, with_bias=True)
    net = calibrated(net, MIXED, calib, seed=4)
    x = (rng.random((20, STEPS, shape.size)) < 0.3).astype(np.uint8)
    return _build(tmp_path_factory.mktemp("hls_conv_mixed"), net, x), net, x


@pytest.fixture(scope="module")
def random_design(tmp_path_factory):
    shape = MapShape(2, 8, 8)
    rng = np.random.default_rng(5)
    calib = (rng.random((32, STEPS, shape.size)) < 0.3).astype(np.uint8)
    placeholder = LIFParams(1, None, "subtract", "full", 1, 16)
    net = random_arch_network(shape, "4c3-p2-4c3p1-fc6", 5, "int8", placeholder, seed=6)
    settings = (("int8", "int4", 2, "subtract", False), ("int2", "ternary", 1, "zero", True),
                ("binary", "int8", None, "subtract", False), ("ternary", "ternary", 2, "subtract", False))  # fmt: skip
    net = calibrated(net, settings, calib, seed=7)
    x = (rng.random((20, STEPS, shape.size)) < 0.3).astype(np.uint8)
    scales = [2.0**-3, 2.0**-1, 1.0, 1.0]  # int8 and int2 layers at a power-of-two scale, as training exports them
    return _build(tmp_path_factory.mktemp("hls_conv_random"), net, x, scales), net, x


def test_mixed_network_covers_the_settings(mixed):
    runner, net, _ = mixed
    kinds = [layer.kind for layer in net.layers]
    assert kinds == ["conv", "conv", "pool", "dense", "dense"]
    convs = [layer for layer in net.layers if layer.kind == "conv"]
    assert {c.stride for c in convs} == {1, 2} and {c.padding for c in convs} == {1} and (3, 2) in {c.kernel for c in convs}
    assert net.layers[2].in_shape.height % net.layers[2].k  # the pool drops a remainder row
    lifs = [layer.lif for layer in net.layers if layer.lif is not None]
    assert {p.membrane for p in lifs} == {"ternary", "int4", "full", "int8"}
    assert {p.reset for p in lifs} == {"subtract", "zero"} and {p.leak_shift for p in lifs} >= {None, 1, 2}
    assert [p.kind for p in runner.prepared.layers] == kinds
    assert runner.layer_sizes == [layer.n_out for layer in net.layers]


def test_mixed_conv_csim_equals_golden_every_layer_every_step(mixed):
    runner, net, x = mixed
    result = runner.compare(x)
    assert result.mismatches == [0] * len(net.layers) and result.label_mismatches == 0, result.summary()
    rates = [float(s.mean()) for s in net.run(x).spikes]
    assert min(rates) > 0.02 and max(rates) < 0.95, rates  # every layer's check is meaningful
    print(f"\nmixed conv net, {result.summary()}")


def test_random_arch_network_csim_equals_golden(random_design, record_property):
    runner, net, x = random_design
    assert [layer.kind for layer in net.layers] == ["conv", "pool", "conv", "dense", "dense"]
    assert net.layers[2].weight_quant == "int2" and net.layers[2].weights.min() == -2
    assert runner.meta.weight_scales[:2] == (2.0**-3, 2.0**-1)  # the Div by the scale folds into integer codes
    result = runner.check(x)
    assert result.mismatches == [0] * 5
    rates = [float(s.mean()) for s in net.run(x).spikes]
    assert min(rates) > 0.02 and max(rates) < 0.95, rates
    record_property("csim_ms_per_sample", round(result.csim_s_per_sample * 1e3, 3))
    record_property("golden_ms_per_sample", round(result.golden_s_per_sample * 1e3, 3))
    print(f"\n2x8x8 4c3-p2-4c3p1-fc6-5: {result.summary()}")


def test_layer_order_matters(mixed):
    """The check is not blind to layout: the pool's spikes read channels-last instead of channel-major differ."""
    runner, net, x = mixed
    got = runner.run(x[:4]).spikes[2]
    ref = net.run(x[:4]).spikes[2]
    pool = net.layers[2].out_shape
    hwc = ref.reshape(*ref.shape[:2], pool.channels, pool.height, pool.width).transpose(0, 1, 3, 4, 2).reshape(ref.shape)
    np.testing.assert_array_equal(got, ref)
    assert np.count_nonzero(hwc != ref) > 0


def test_state_is_per_neuron_over_the_whole_map(mixed):
    """Every conv neuron (C_out·H_out·W_out of them) keeps its own membrane: runs repeat from reset, and differ by sample."""
    runner, net, x = mixed
    twice = runner.run(np.concatenate([x[:2], x[:2]]))
    for s in twice.spikes:
        np.testing.assert_array_equal(s[:2], s[2:])
    cpp = (runner.out_dir / "firmware" / "parameters.h").read_text()
    assert f"n_in = {net.layers[0].n_out};" in cpp and f"n_in = {net.layers[1].n_out};" in cpp


def test_generated_cpp_uses_hls4ml_conv_and_pool(mixed):
    runner, _, _ = mixed
    cpp = (runner.out_dir / "firmware" / "snn.cpp").read_text()
    assert cpp.count("nnet::conv_2d_cl<") == 2 and cpp.count("nnet::pooling2d_cl<") == 1
    assert cpp.count("nnet::lif<") == 4
    defines = (runner.out_dir / "firmware" / "defines.h").read_text()
    assert "float" not in defines and "double" not in defines


def test_cpp_testbench_reproduces_golden(mixed, tmp_path):
    """The project's own C++ testbench (what Vitis csim runs), compiled with g++: its log equals the golden spikes."""
    import shutil
    import subprocess

    from snn2fpga.hls.testbench import compare_log

    runner, _, _ = mixed
    if shutil.which("g++") is None:
        pytest.skip("g++ not found")
    d = runner.out_dir
    subprocess.run(
        ["nice", "-n", "10", "g++", "-O1", "-std=c++11", "-Ifirmware/ap_types", "-Ifirmware",
         '-DWEIGHTS_DIR="firmware/weights"', "snn_test.cpp", "firmware/snn.cpp", "-o", str(tmp_path / "tb")],
        cwd=d, check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run([str(tmp_path / "tb")], cwd=d, check=True, capture_output=True)
    assert compare_log(d, "csim") == (0, 2 * STEPS)


@pytest.fixture(scope="module")
def small_conv_file(tmp_path_factory):
    from snn2fpga import export

    lif = LIFParams(3, 2, "subtract", "ternary", default_delta("ternary", 3), 16)
    net = random_arch_network(MapShape(2, 6, 6), "3c3p1-p2", 4, "ternary", lif, seed=1, with_bias=True)
    return export.export_network(net, tmp_path_factory.mktemp("hls_conv_prep") / "model.qonnx", steps=STEPS), net


def test_prepared_conv_graph(small_conv_file):
    """Quant(codes) → channels-last Conv with the bias as its own input; LIFs on channel-major vectors; every layer out."""
    from snn2fpga.hls.prepare import prepare

    path, net = small_conv_file
    prep = prepare(path)
    m = prep.model
    assert [(p.kind, p.n_in, p.n_out) for p in prep.layers] == [(layer.kind, layer.n_in, layer.n_out) for layer in net.layers]
    (conv,) = [n for n in m.graph.node if n.op_type == "Conv"]
    assert conv.domain == "qonnx.custom_op.channels_last" and len(conv.input) == 3
    np.testing.assert_array_equal(m.get_initializer(conv.input[2]), net.layers[0].bias)
    codes = m.get_initializer(m.find_producer(conv.input[1]).input[0])  # [C_out, K_h, K_w, C_in]
    np.testing.assert_array_equal(codes, net.layers[0].weights.transpose(0, 2, 3, 1))
    (pool,) = [n for n in m.graph.node if n.op_type == "MaxPool"]
    assert pool.domain == "qonnx.custom_op.channels_last"
    lifs = [n for n in m.graph.node if n.op_type == "LIF"]
    assert all(len(m.get_tensor_shape(n.input[0])) == 2 for n in lifs)  # flat, channel-major
    assert [int(np.prod(m.get_tensor_shape(o.name)[1:])) for o in m.graph.output] == [layer.n_out for layer in net.layers]


@pytest.mark.parametrize(
    ("attr", "value"), [("dilations", [2, 2]), ("group", 2), ("auto_pad", "SAME_UPPER")]
)
def test_conv_outside_the_contract_is_refused(small_conv_file, attr, value):
    import onnx
    from onnx import helper

    from snn2fpga.hls.errors import UnsupportedGraphError
    from snn2fpga.hls.prepare import prepare

    path, _ = small_conv_file
    model = onnx.load(str(path))
    conv = next(n for n in model.graph.node if n.op_type == "Conv")
    for a in [a for a in conv.attribute if a.name == attr]:
        conv.attribute.remove(a)
    conv.attribute.append(helper.make_attribute(attr, value))
    with pytest.raises(UnsupportedGraphError, match=rf"Conv node '{conv.name}': {attr}="):
        prepare(model)


def test_per_position_conv_bias_is_refused(small_conv_file):
    """A bias that differs across positions of a channel is not the contract's per-channel bias."""
    import onnx
    from onnx import numpy_helper

    from snn2fpga.hls.errors import UnsupportedGraphError
    from snn2fpga.hls.prepare import prepare

    path, net = small_conv_file
    model = onnx.load(str(path))
    add = next(n for n in model.graph.node if n.op_type == "Add")
    init = next(t for t in model.graph.initializer if t.name == add.input[1])
    shape = net.layers[0].out_shape
    init.CopyFrom(numpy_helper.from_array(np.ones((shape.channels, shape.height, shape.width), np.float32), init.name))
    with pytest.raises(UnsupportedGraphError, match="one value per channel"):
        prepare(model)
