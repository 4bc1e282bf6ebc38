"""The Brevitas model: quantizer code ranges, golden model == fake-quantized forward, exact resume."""

import itertools

import numpy as np
import pytest
import torch

from snn2fpga.train.config import TrainConfig
from snn2fpga.core.contract import ContractError, membrane_code_range, weight_code_range
from snn2fpga.train.data.packed import pack
from snn2fpga.train.model import QuantSNN
from snn2fpga.train.trainer import train_model

WEIGHTS = ["binary", "ternary", "int2", "int4", "int8"]
MEMBRANES = ["ternary", "int2", "int8", "int16", "full"]


def spikes(shape, rate=0.3, seed=0):
    return (torch.rand(*shape, generator=torch.Generator().manual_seed(seed)) < rate).float()


def make(weights, membrane, **kw):
    torch.manual_seed(0)
    cfg = TrainConfig(weights=weights, membrane=membrane, hidden=[24], **kw)
    model = QuantSNN(40, 5, cfg)
    model.calibrate(spikes((16, 8, 40)), 0.15)
    return model.eval()


@pytest.mark.parametrize("weights", WEIGHTS)
def test_weight_codes_in_range(weights):
    model = make(weights, "full")
    lo, hi = weight_code_range(weights)
    for fc in model.fcs:
        codes = fc.quant_weight().int()
        assert int(codes.min()) >= lo and int(codes.max()) <= hi
        assert len(torch.unique(codes)) >= 2
        if weights == "binary":
            assert set(torch.unique(codes).tolist()) == {-1, 1}
        scale = float(fc.quant_weight().scale)
        assert scale == 2.0 ** round(np.log2(scale))  # power of two: the fold is exact


@pytest.mark.parametrize("membrane", MEMBRANES)
def test_membrane_codes_in_range(membrane):
    model = make("int4", membrane, acc_bits=16)
    with torch.no_grad():
        _, codes = model.forward_all(spikes((16, 8, 40), 0.5, seed=1))
    lo, hi = membrane_code_range(membrane, 16)
    for c in codes:
        assert float(c.min()) >= lo and float(c.max()) <= hi
        assert torch.equal(c, torch.round(c))  # integer codes


@pytest.mark.parametrize(
    "weights, membrane, leak, reset",
    [(w, m, 2, "subtract") for w, m in itertools.product(WEIGHTS, MEMBRANES)]
    + [("ternary", "ternary", None, "zero"), ("int8", "int8", 1, "zero"), ("int4", "full", None, "subtract")],
)
def test_golden_equals_fake_quantized_forward(weights, membrane, leak, reset):
    model = make(weights, membrane, leak=leak, reset=reset)
    x = spikes((32, 8, 40), 0.3, seed=2)
    with torch.no_grad():
        s_model, m_model = model.forward_all(x)
    golden = model.to_golden().run(x.numpy().astype(np.uint8))
    for layer, (s, m) in enumerate(zip(s_model, m_model)):
        assert np.array_equal(s.numpy().astype(np.uint8), golden.spikes[layer]), f"layer {layer} spikes differ"
        assert np.array_equal(m.numpy().astype(np.int64), golden.membranes[layer]), f"layer {layer} membranes differ"
    assert sum(int(s.sum()) for s in golden.spikes) > 0  # the comparison saw spikes
    assert np.array_equal(torch.argmax(model(x), 1).numpy(), golden.label)


def test_golden_thresholds_follow_learned_threshold():
    model = make("int4", "int8")
    golden = model.to_golden()
    for i, (lif, layer) in enumerate(zip(model.lifs, golden.layers)):
        assert layer.lif.threshold == round(float(lif.threshold) / float(model.scale(i)))


def test_bad_config_is_named():
    with pytest.raises(ContractError, match="weights"):
        TrainConfig(weights="int12")
    with pytest.raises(ContractError, match="steps"):
        TrainConfig(steps=0)


class Interrupt(Exception):
    pass


def test_resume_after_interruption_matches_uninterrupted(tmp_path):
    rng = np.random.default_rng(0)
    x = (rng.random((40, 5, 30)) < 0.3).astype(np.uint8)
    y = rng.integers(0, 3, 40)
    cfg = TrainConfig(hidden=[12], epochs=3, batch_size=8, weights="int4", membrane="int8")

    full, _, _ = train_model(cfg, pack(x, y), x[:8], y[:8], 3, tmp_path / "a", progress=False)

    def stop_in_epoch_2(epoch, batch):
        if epoch == 1 and batch == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        train_model(cfg, pack(x, y), x[:8], y[:8], 3, tmp_path / "b", on_batch=stop_in_epoch_2, progress=False)
    assert torch.load(tmp_path / "b" / "model.pt", weights_only=False)["epoch"] == 1
    resumed, history, _ = train_model(cfg, pack(x, y), x[:8], y[:8], 3, tmp_path / "b", resume=True, progress=False)
    assert [h["epoch"] for h in history] == [1, 2, 3]
    for (name, a), (_, b) in zip(full.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(a, b), name
    # and training moved the weights at all, so the equality above is not trivial
    torch.manual_seed(cfg.seed)
    fresh = QuantSNN(30, 3, cfg)
    assert not torch.equal(fresh.fcs[0].weight, full.fcs[0].weight)
