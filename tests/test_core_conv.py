"""The golden conv and pool layers (DESIGN §7) against oracles written here from the definition, and the arch strings."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from snn2fpga.core import (
    ArchError,
    ContractError,
    ConvLayer,
    ConvSpec,
    DenseSpec,
    GoldenNetwork,
    LIFParams,
    MapShape,
    PoolLayer,
    PoolSpec,
    QuantLayer,
    parse_arch,
    plan,
    random_arch_network,
    random_codes,
)

LIF = LIFParams(threshold=3, leak_shift=2, reset="subtract", membrane="ternary", delta=2, acc_bits=12)


def dense_expansion(layer: ConvLayer) -> QuantLayer:
    """The conv as the dense layer it is: one matrix row per output neuron, by the §7 formula with explicit loops."""
    cin, h, w = layer.in_shape.channels, layer.in_shape.height, layer.in_shape.width
    cout, _, kh, kw = layer.weights.shape
    ho = (h + 2 * layer.padding - kh) // layer.stride + 1
    wo = (w + 2 * layer.padding - kw) // layer.stride + 1
    matrix = np.zeros((cout * ho * wo, cin * h * w), dtype=np.int64)
    bias = np.zeros(cout * ho * wo, dtype=np.int64)
    for o in range(cout):
        for y in range(ho):
            for x in range(wo):
                row = o * ho * wo + y * wo + x
                bias[row] = layer.bias[o]
                for c in range(cin):
                    for i in range(kh):
                        for j in range(kw):
                            yy, xx = y * layer.stride + i - layer.padding, x * layer.stride + j - layer.padding
                            if 0 <= yy < h and 0 <= xx < w:
                                matrix[row, c * h * w + yy * w + xx] += layer.weights[o, c, i, j]
    return QuantLayer(matrix, "int8", layer.lif, bias)  # zeros off the kernel: not a binary matrix


@settings(max_examples=40, deadline=None)
@given(
    cin=st.integers(1, 3), cout=st.integers(1, 4), h=st.integers(3, 9), w=st.integers(3, 9),
    kh=st.integers(1, 3), kw=st.integers(1, 3), stride=st.integers(1, 3), padding=st.integers(0, 2),
    quant=st.sampled_from(["binary", "ternary", "int3", "int8"]), seed=st.integers(0, 2**16),
)
def test_conv_equals_its_dense_expansion(cin, cout, h, w, kh, kw, stride, padding, quant, seed):
    """Every spike and membrane code of a conv LIF layer equals its dense expansion's over 6 steps of random maps."""
    if padding >= max(kh, kw):
        padding = max(kh, kw) - 1
    rng = np.random.default_rng(seed)
    conv = ConvLayer(random_codes(rng, quant, (cout, cin, kh, kw)), quant, LIF, MapShape(cin, h, w), stride, padding,
                     rng.integers(-3, 4, size=cout))
    dense = dense_expansion(conv)
    x = (rng.random((3, 6, cin * h * w)) < 0.4).astype(np.uint8)
    a, b = GoldenNetwork([conv]).run(x), GoldenNetwork([dense]).run(x)
    assert conv.n_out == dense.n_out
    np.testing.assert_array_equal(a.spikes[0], b.spikes[0])
    np.testing.assert_array_equal(a.membranes[0], b.membranes[0])
    flat = x.reshape(-1, x.shape[-1]).astype(np.int64)
    np.testing.assert_array_equal(conv.current(flat), dense.current(flat))


def test_pool_is_or_over_windows_and_drops_the_remainder():
    """p2 on a 1×5×5 map: output 2×2 from rows/columns 0..3; row and column 4 are dropped."""
    x = np.zeros((1, 25), dtype=np.uint8)
    x[0, 0 * 5 + 1] = 1  # (0, 1) → out (0, 0)
    x[0, 3 * 5 + 3] = 1  # (3, 3) → out (1, 1)
    x[0, 4 * 5 + 0] = 1  # (4, 0): the dropped row
    out = PoolLayer(MapShape(1, 5, 5), 2).spikes(x)
    assert out.tolist() == [[1, 0, 0, 1]]


def test_network_of_conv_pool_dense_runs_and_round_trips_json(tmp_path):
    """A conv-pool-conv-pool-dense chain keeps its results through to_dict/from_dict, pools carry no state."""
    net = random_arch_network(MapShape(2, 12, 12), "4c3p1-p2-6c3-p2-fc10", 5, "ternary", LIF, seed=3, with_bias=True)
    assert [layer.kind for layer in net.layers] == ["conv", "pool", "conv", "pool", "dense", "dense"]
    x = (np.random.default_rng(0).random((2, 5, net.n_in)) < 0.3).astype(np.uint8)
    first = net.run(x)
    path = tmp_path / "net.json"
    net.save_json(path)
    again = GoldenNetwork.from_dict(json.loads(path.read_text())).run(x)
    for s1, s2 in zip(first.spikes, again.spikes):
        np.testing.assert_array_equal(s1, s2)
    assert first.membranes[1].shape == (2, 5, 0)
    assert net.lif_layers == [0, 2, 4, 5]


def test_mismatched_maps_are_refused():
    conv = ConvLayer(np.ones((4, 2, 3, 3), int), "ternary", LIF, MapShape(2, 8, 8))
    with pytest.raises(ContractError, match=r"layer 1 \(pool\) takes 64 inputs but layer 0 \(conv\) has 144 neurons"):
        GoldenNetwork([conv, PoolLayer(MapShape(4, 4, 4), 2), QuantLayer(np.ones((3, 16), int), "ternary", LIF)])
    with pytest.raises(ContractError, match=r"takes a 4×9×4 map but layer 0 makes 4×6×6"):  # same size, other shape
        GoldenNetwork([conv, PoolLayer(MapShape(4, 9, 4), 2), QuantLayer(np.ones((3, 32), int), "ternary", LIF)])
    with pytest.raises(ContractError, match="pool layer cannot be the readout"):
        GoldenNetwork([conv, PoolLayer(MapShape(4, 6, 6), 2)])


def test_arch_parses_every_token_kind():
    assert parse_arch("12c5-p2-32c3x5s2p1-fc128") == (
        ConvSpec(12, (5, 5)), PoolSpec(2), ConvSpec(32, (3, 5), 2, 1), DenseSpec(128))
    assert str(ConvSpec(32, (3, 5), 2, 1)) == "32c3x5s2p1"


@pytest.mark.parametrize("text, message", [
    ("12c5-q2-fc10", r"token 2: bad token 'q2'"),
    ("12c5--fc10", r"token 2: bad token ''"),
    ("0c3", r"token 1: '0c3' needs channels"),
    ("fc0", r"token 1: 'fc0' needs at least 1 neuron"),
    ("", "--arch is empty"),
])
def test_malformed_arch_names_the_token(text, message):
    with pytest.raises(ArchError, match=message):
        parse_arch(text)


@pytest.mark.parametrize("text, message", [
    ("12c3-p2-32c3-p2-64c3", r"layer 5 \(64c3\): kernel 3×3 is larger than its input 32×1×1"),
    ("8c3-p16", r"layer 2 \(p16\): pool window 16 is larger than its input 8×8×8"),
    ("fc32-8c3", r"layer 2 \(8c3\): a conv or pool layer cannot follow a dense layer"),
    ("8c3p3", r"layer 1 \(8c3p3\): padding 3 must be smaller than the 3×3 kernel"),
])
def test_arch_that_cannot_be_built_names_the_layer(text, message):
    with pytest.raises(ArchError, match=message):
        plan(MapShape(2, 10, 10), parse_arch(text), 10)


def test_plan_of_the_tssl_net_on_nmnist():
    """12c5-p2-64c5-p2 on 2×34×34: 12×30×30 → 12×15×15 → 64×11×11 → 64×5×5 → 10 classes."""
    shapes = [p.out_shape for p in plan(MapShape(2, 34, 34), parse_arch("12c5-p2-64c5-p2"), 10)]
    assert [str(s) for s in shapes[:-1]] == ["12×30×30", "12×15×15", "64×11×11", "64×5×5"]
    assert shapes[-1] is None
