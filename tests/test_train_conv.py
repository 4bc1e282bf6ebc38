"""Conv SNNs in training: the eval forward equals the golden model for every quantizer pair, overrides, --arch errors."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch

from snn2fpga.cli import main
from snn2fpga.core.contract import ContractError, weight_code_range
from snn2fpga.core.golden import ConvLayer, PoolLayer, QuantLayer
from snn2fpga.core.maps import MapShape
from snn2fpga.train.config import TrainConfig
from snn2fpga.train.data.packed import pack
from snn2fpga.train.model import QuantSNN
from snn2fpga.train.pool import or_pool
from snn2fpga.train.trainer import load_model, train_model

WEIGHTS = ["binary", "ternary", "int2", "int4", "int8"]
MEMBRANES = ["ternary", "int4", "int8", "full"]
SHAPE = MapShape(2, 10, 10)
ARCH = "4c3p1-p2-5c3s2-fc12"  # conv (padded) → pool → strided conv → dense → output
LEAK_RESET = [(2, "subtract"), (None, "zero"), (1, "zero"), (None, "subtract")]


def spikes(shape, rate=0.3, seed=0):
    return (torch.rand(*shape, generator=torch.Generator().manual_seed(seed)) < rate).float()


def make(weights, membrane, shape=SHAPE, arch=ARCH, bias=False, seed=0, **kw):
    """A random-init conv net, thresholds calibrated, biases random integers when `bias`."""
    torch.manual_seed(seed)
    cfg = TrainConfig(weights=weights, membrane=membrane, arch=arch, bias=bias, **kw)
    model = QuantSNN(shape.size, 5, cfg, shape)
    if bias:
        with torch.no_grad():
            for i, b in enumerate(model.biases):
                b.copy_(torch.randint(-3, 4, b.shape).float() * model.scale(i))
    model.calibrate(spikes((16, 8, shape.size), 0.3, seed=seed + 1), 0.15)
    return model.eval()


def assert_golden_equal(model, x):
    with torch.no_grad():
        s_model, m_model = model.forward_all(x)
    golden = model.to_golden()
    result = golden.run(x.numpy().astype(np.uint8))
    assert len(s_model) == len(golden.layers) == len(result.spikes)
    for layer, (s, m) in enumerate(zip(s_model, m_model)):
        assert np.array_equal(s.numpy().astype(np.uint8), result.spikes[layer]), f"layer {layer} spikes differ"
        assert np.array_equal(m.numpy().astype(np.int64), result.membranes[layer]), f"layer {layer} membranes differ"
    for layer in golden.lif_layers:  # every LIF layer both fired and stayed silent somewhere: the comparison saw both
        assert 0 < result.spikes[layer].sum() < result.spikes[layer].size, f"layer {layer} is all-or-nothing"
    assert np.array_equal(torch.argmax(model(x), 1).numpy(), result.label)
    return golden


@pytest.mark.parametrize("weights, membrane", list(itertools.product(WEIGHTS, MEMBRANES)))
def test_eval_forward_equals_golden_for_every_quantizer_pair(weights, membrane):
    k = WEIGHTS.index(weights) + MEMBRANES.index(membrane)
    leak, reset = LEAK_RESET[k % len(LEAK_RESET)]
    model = make(weights, membrane, leak=leak, reset=reset, bias=k % 2 == 1, seed=k)
    golden = assert_golden_equal(model, spikes((12, 8, SHAPE.size), 0.3, seed=100 + k))
    assert [type(layer) for layer in golden.layers] == [ConvLayer, PoolLayer, ConvLayer, QuantLayer, QuantLayer]
    conv = golden.layers[0]
    assert conv.weights.shape == (4, 2, 3, 3) and conv.padding == 1 and golden.layers[2].stride == 2
    assert conv.out_shape == MapShape(4, 10, 10) and golden.layers[1].out_shape == MapShape(4, 5, 5)
    assert all(golden.layers[i].lif.leak_shift == leak and golden.layers[i].lif.reset == reset for i in golden.lif_layers)
    if k % 2 == 1:
        assert any(np.any(golden.layers[i].bias != 0) for i in golden.lif_layers)


def test_every_setting_combination_is_covered_above():
    seen = {LEAK_RESET[(WEIGHTS.index(w) + MEMBRANES.index(m)) % 4] for w, m in itertools.product(WEIGHTS, MEMBRANES)}
    assert seen == set(LEAK_RESET)


def test_conv_after_conv_and_pool_with_remainder_equals_golden():
    shape = MapShape(2, 11, 9)  # odd sides: the pools drop a remainder row and column
    model = make("int4", "int8", shape=shape, arch="3c2x3-p2-4c2-p2", bias=True)
    assert_golden_equal(model, spikes((8, 6, shape.size), 0.35, seed=7))


def test_per_layer_overrides_reach_the_golden_layers():
    layers = ["first:weights=int8", "last:weights=int8,membrane=full", "2:leak=none,reset=zero"]
    model = make("ternary", "ternary", layers=layers, leak=2, reset="subtract")
    golden = assert_golden_equal(model, spikes((12, 8, SHAPE.size), 0.3, seed=3))
    lif = [golden.layers[i] for i in golden.lif_layers]
    assert [layer.weight_quant for layer in lif] == ["int8", "ternary", "ternary", "int8"]
    assert [layer.lif.membrane for layer in lif] == ["ternary", "ternary", "ternary", "full"]
    assert [layer.lif.leak_shift for layer in lif] == [2, None, 2, 2]
    assert [layer.lif.reset for layer in lif] == ["subtract", "zero", "subtract", "subtract"]
    lo, hi = weight_code_range("int8")
    assert lif[0].weights.min() < -1 or lif[0].weights.max() > 1  # int8 codes, not ternary ones
    assert lo <= lif[0].weights.min() and lif[0].weights.max() <= hi
    assert set(np.unique(lif[1].weights)) <= {-1, 0, 1}


def test_overrides_apply_to_dense_nets_too():
    cfg = TrainConfig(hidden=[8, 6], layers=["1:weights=int4", "3:membrane=int8"])
    model = QuantSNN(20, 3, cfg)
    model.calibrate(spikes((8, 5, 20)), 0.2)
    golden = model.to_golden()
    assert [l.weight_quant for l in golden.layers] == ["int4", "ternary", "ternary"]
    assert [l.lif.membrane for l in golden.layers] == ["ternary", "ternary", "int8"]


@pytest.mark.parametrize(("layers", "says"), [
    (["5:weights=int8"], "layer 5 does not exist"),
    (["0:weights=int8"], "layer 0 does not exist"),
    (["middle:weights=int8"], "'middle'"),
    (["last:weight=int8"], "'weight=int8'"),
    (["last:weights=int9"], "weights='int9'"),
    (["last:membrane=int3x"], "membrane='int3x'"),
    (["last:leak=0"], "leak='0'"),
    (["last:reset=hard"], "reset='hard'"),
    (["last"], "expected LAYER:key=value"),
    (["1:weights=int8,weights=int4"], "weights is given twice"),
])
def test_bad_overrides_are_named(layers, says):
    with pytest.raises(ContractError, match=None) as err:
        TrainConfig(arch="4c3-p2-fc8", layers=layers)  # 3 LIF layers: conv, fc8, output
    assert says in str(err.value) and "--layer" in str(err.value)


def test_pool_gradient_reaches_every_input_that_can_change_the_window():
    x = torch.tensor([[[[0., 0., 1., 1., 0.],
                        [0., 0., 0., 1., 1.],
                        [1., 0., 0., 0., 0.]]]], requires_grad=True)
    y = or_pool(x, 2)
    assert y.tolist() == [[[[0., 1.]]]]  # OR of each 2×2 window; the fifth column and third row are dropped
    y.backward(torch.tensor([[[[2., 3.]]]]))
    assert x.grad.tolist() == [[[[2., 2., 3., 3., 0.],
                                 [2., 2., 0., 3., 0.],
                                 [0., 0., 0., 0., 0.]]]]


def test_config_round_trips_and_old_configs_load(tmp_path):
    cfg = TrainConfig(arch="8c5-p2-16c5-p2", layers=["first:weights=int8"], bias=True)
    cfg.save(tmp_path / "config.json")
    assert TrainConfig.load(tmp_path / "config.json") == cfg
    old = json.loads((tmp_path / "config.json").read_text())
    del old["arch"], old["layers"]
    (tmp_path / "old.json").write_text(json.dumps(old))
    loaded = TrainConfig.load(tmp_path / "old.json")
    assert loaded.arch is None and loaded.layers == []


def test_input_map_comes_from_the_dataset():
    assert TrainConfig(dataset="nmnist").input_shape() == MapShape(2, 17, 17)
    assert TrainConfig(dataset="nmnist", pool=1).input_shape() == MapShape(2, 34, 34)
    assert TrainConfig(dataset="dvs-motions").input_shape() == MapShape(2, 32, 32)
    assert TrainConfig(dataset="shd").input_shape() == MapShape(1, 1, 700)


def test_trained_conv_run_reloads_equal_to_golden(tmp_path):
    shape = TrainConfig().input_shape()  # saccade-digits: 2×17×17
    rng = np.random.default_rng(0)
    x = (rng.random((24, 6, shape.size)) < 0.2).astype(np.uint8)
    y = rng.integers(0, 10, 24)
    cfg = TrainConfig(arch="4c5-p2-fc16", epochs=2, batch_size=8, steps=6, bias=True, layers=["last:weights=int8"])
    model, history, _ = train_model(cfg, pack(x, y), x[:8], y[:8], 10, tmp_path, progress=False)
    assert len(history) == 2
    cfg.save(tmp_path / "config.json")
    loaded, cfg2 = load_model(tmp_path)
    assert cfg2 == cfg
    for (name, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), name
    assert_golden_equal(loaded, torch.from_numpy(x).float())


def refused(argv, capsys, says):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and all(s in err[0] for s in says), err


@pytest.mark.parametrize(("arch", "says"), [
    ("8c5-q2-fc10", ["--arch token 2", "'q2'"]),
    ("8c5--fc10", ["--arch token 2", "''"]),
    ("fc10-8c3", ["layer 2 (8c3)", "cannot follow a dense layer"]),
    ("8c19", ["layer 1 (8c19)", "larger than its input"]),  # saccade-digits is 2×17×17
    ("8c5-p2-8c5-p4", ["layer 4 (p4)", "larger than its input"]),
])
def test_bad_arch_is_refused_before_training(tmp_path, capsys, arch, says):
    out = tmp_path / "run"
    refused(["train", "--arch", arch, "--out", str(out), "--epochs", "1"], capsys, says)
    assert not out.exists()


def test_bad_layer_option_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    refused(["train", "--arch", "4c5-p2", "--layer", "4:weights=int8", "--out", str(out)], capsys, ["--layer", "layer 4 does not exist"])
    assert not out.exists()


def test_a_checkpoint_from_before_arch_resumes(tmp_path):
    from dataclasses import asdict

    from snn2fpga.train.pipeline import check_run_folder

    cfg = TrainConfig()
    old = asdict(cfg)
    del old["arch"], old["layers"]
    torch.save({"model": {}, "epoch": 1, "meta": {"config": old}}, tmp_path / "model.pt")
    check_run_folder(cfg, tmp_path, resume=True, overwrite=False)  # no error: the new settings are at their defaults
    with pytest.raises(ValueError, match="arch"):
        check_run_folder(TrainConfig(arch="4c5-p2"), tmp_path, resume=True, overwrite=False)
