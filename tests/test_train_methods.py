"""Training methods (train/methods/): CBP, TET, activity, the cycle-cost restatement, static-digits, refusals."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from snn2fpga.core.contract import ContractError
from snn2fpga.train.config import TrainConfig
from snn2fpga.train.data.packed import pack
from snn2fpga.train.methods.cbp import CBP, near_level_fraction
from snn2fpga.train.methods.cost import DEFAULT_LANES, layer_rows, predicted_cycles
from snn2fpga.train.methods.objective import activity_penalty, tet_loss
from snn2fpga.train.model import QuantSNN
from snn2fpga.train.trainer import train_model
from test_train_cli import refused


def tiny_data(seed=0, n=48, steps=6, n_in=30, classes=3):
    """Inputs whose class sets the firing rate of its own third of the inputs (learnable in a few epochs)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    rate = np.full((n, 1, n_in), 0.1)
    for i, c in enumerate(y):
        rate[i, 0, c * n_in // classes:(c + 1) * n_in // classes] = 0.6
    return (rng.random((n, steps, n_in)) < rate).astype(np.uint8), y


def assert_golden_equal(model, x):
    """Every spike and stored code of every layer of the eval forward equals the golden model's."""
    xt = torch.from_numpy(x).float()
    with torch.no_grad():
        s_model, m_model = model.eval().forward_all(xt)
    golden = model.to_golden().run(x)
    for layer, (s, m) in enumerate(zip(s_model, m_model)):
        assert np.array_equal(s.numpy().astype(np.uint8), golden.spikes[layer]), f"layer {layer} spikes differ"
        assert np.array_equal(m.numpy().astype(np.int64), golden.membranes[layer]), f"layer {layer} codes differ"
    assert sum(int(s.sum()) for s in golden.spikes) > 0
    return golden


# ---- the cycle model restated in train/ equals rtl/cycle_model.py ----

def test_constants_are_rtl_defaults():
    from snn2fpga.rtl import cycle_model
    from snn2fpga.rtl.point import DEFAULT_LANES as RTL_LANES
    from snn2fpga.train.methods import cost

    assert (DEFAULT_LANES, cost.SWEEP_OVERHEAD, cost.REARM) == (RTL_LANES, cycle_model.SWEEP_OVERHEAD, cycle_model.REARM)


@pytest.mark.parametrize("sizes", [[10], [128, 10], [40, 7, 33, 10], [200, 64, 10]])
def test_predicted_cycles_equal_rtl_cycle_model(sizes):
    from snn2fpga.rtl.cycle_model import CycleParams, predict_cycles

    rng = np.random.default_rng(len(sizes))
    steps = 7
    counts = np.concatenate([rng.integers(0, 60, (9, steps, 1))] + [rng.integers(0, n + 1, (9, steps, 1)) for n in sizes], 2)
    counts[0] = 0  # a silent sample
    rows = layer_rows(sizes)
    params = CycleParams(tuple(rows), steps)
    want = predict_cycles(params, counts)
    assert np.array_equal(predicted_cycles(counts, rows), want)
    assert len(set(want.tolist())) > 2  # the counts mattered


def test_predicted_cycles_of_a_network_equal_rtl_for_its_golden_run():
    from snn2fpga.core.contract import LIFParams
    from snn2fpga.core.golden import random_network
    from snn2fpga.rtl.cycle_model import predict_cycles

    net = random_network([50, 70, 10], "ternary", LIFParams(2, 2, "subtract", "ternary", 1, 16))
    x = (np.random.default_rng(1).random((5, 8, 50)) < 0.3).astype(np.uint8)
    result = net.run(x)
    counts = np.stack([x.sum(2)] + [s.sum(2) for s in result.spikes], 2)
    rows = layer_rows([layer.n_out for layer in net.layers])
    assert np.array_equal(predicted_cycles(counts, rows), predict_cycles(net, result, lanes=DEFAULT_LANES, inputs=x))


# ---- CBP ----

def test_cbp_constraint_function_and_window():
    torch.manual_seed(0)
    cfg = TrainConfig(method="cbp", weights="ternary", hidden=[4])
    model = QuantSNN(3, 2, cfg)
    cbp = CBP(model, cfg)
    w = torch.tensor([-1.3, -1.0, -0.6, -0.25, 0.0, 0.1, 0.45, 1.0, 1.2])
    assert cbp.window == 0.0  # g = 1: everything between −1 and +1 is free, only the outside pulled back
    assert torch.allclose(cbp.constraint(w), torch.tensor([0.6, 0, 0, 0, 0, 0, 0, 0, 0.4]))
    cbp.g = 1000  # window nearly closed: c = 2·|w − nearest level|
    assert torch.allclose(cbp.constraint(w), torch.tensor([0.6, 0, 0.8, 0.5, 0, 0.2, 0.9, 0, 0.4]))
    cbp.g = 2  # u = 0.5: free where 2·d > 0.5 (d > 0.25)
    assert torch.allclose(cbp.constraint(w), torch.tensor([0.6, 0, 0, 0.5, 0, 0.2, 0, 0, 0.4]))
    binary = CBP(model, TrainConfig(method="cbp", weights="binary", hidden=[4]))
    binary.g = 1000
    assert torch.allclose(binary.constraint(torch.tensor([-0.5, 0.2, 0.9])), torch.tensor([1.0, 1.6, 0.2]))


def test_cbp_multipliers_ascend_and_window_narrows():
    torch.manual_seed(0)
    cfg = TrainConfig(method="cbp", weights="ternary", hidden=[4], cbp_period=3, cbp_lr_lambda=0.5)
    model = QuantSNN(3, 2, cfg)
    with torch.no_grad():
        model.fcs[0].weight.fill_(0.2)
    cbp = CBP(model, cfg)
    assert float(cbp.lambdas[0].abs().sum()) == 0.0  # at g = 1 nothing inside the range is constrained
    cbp.end_epoch(5.0)
    cbp.end_epoch(4.0)  # falling Lagrangian, period not up: no step
    assert cbp.g == 1
    cbp.end_epoch(4.5)  # did not fall: narrow and ascend
    assert cbp.g == 2 and torch.allclose(cbp.lambdas[0], torch.full_like(cbp.lambdas[0], 0.5 * 0.4))  # u = 0.5, c = 2·0.2


@pytest.mark.parametrize("weights", ["binary", "ternary"])
def test_cbp_pulls_latent_weights_to_levels_and_stays_golden_exact(weights, tmp_path):
    x, y = tiny_data()
    base = dict(hidden=[16], epochs=10, batch_size=8, weights=weights, membrane="ternary", lr=2e-2)
    bptt, _, _ = train_model(TrainConfig(**base), pack(x, y), x[:16], y[:16], 3, tmp_path / "b", progress=False)
    cfg = TrainConfig(method="cbp", cbp_lr_lambda=0.5, cbp_period=1, **base)
    cbp, history, _ = train_model(cfg, pack(x, y), x[:16], y[:16], 3, tmp_path / "c", progress=False)
    assert near_level_fraction(cbp, weights) > near_level_fraction(bptt, weights) + 0.1
    assert history[-1]["cbp_window"] > history[0]["cbp_window"]
    assert_golden_equal(cbp, x)


def test_trained_cbp_model_through_qonnx_has_no_mismatch(tmp_path):
    from snn2fpga.export import export_model, run_qonnx

    x, y = tiny_data()
    cfg = TrainConfig(method="cbp", hidden=[16], epochs=3, batch_size=8, weights="ternary", cbp_lr_lambda=0.05, cbp_period=1)
    model, _, _ = train_model(cfg, pack(x, y), x[:16], y[:16], 3, tmp_path, progress=False)
    cfg.save(tmp_path / "config.json")
    path = export_model(tmp_path)
    golden = assert_golden_equal(model, x)
    qonnx = run_qonnx(path, x)
    mismatches = sum(int((a != b).sum()) for a, b in zip(qonnx.spikes, golden.spikes))
    assert mismatches == 0
    assert np.array_equal(qonnx.label, golden.label)


# ---- TET and activity ----

def test_tet_loss_is_the_mean_over_steps_of_each_steps_cross_entropy():
    out = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])  # [B=1, T=3, 2]
    y = torch.tensor([0])
    ce = [np.log(1 + np.exp(-3.0)), np.log(1 + np.exp(3.0)), np.log(2.0)]  # logits = 3·spikes
    assert abs(float(tet_loss(out, y)) - np.mean(ce)) < 1e-6


def test_activity_penalty_counts_hidden_spikes_per_sample_per_step():
    hidden = torch.zeros(2, 4, 5)
    hidden[0, :, :2] = 1  # sample 0: 2 spikes per step, sample 1: none
    out = torch.ones(2, 4, 3)  # the readout is not charged
    assert float(activity_penalty([hidden, out])) == 1.0


def test_tet_and_activity_train_golden_exact_and_activity_lowers_spikes(tmp_path):
    x, y = tiny_data()
    base = dict(hidden=[16], epochs=4, batch_size=8, weights="int4", membrane="int8", loss="tet")
    plain, h0, _ = train_model(TrainConfig(**base), pack(x, y), x[:16], y[:16], 3, tmp_path / "a", progress=False)
    sparse, h1, _ = train_model(TrainConfig(activity=0.5, **base), pack(x, y), x[:16], y[:16], 3, tmp_path / "b", progress=False)
    assert_golden_equal(sparse, x)
    g0, g1 = plain.to_golden().run(x), sparse.to_golden().run(x)
    assert g1.spikes[0].sum() < g0.spikes[0].sum()
    assert h1[-1]["predicted_cycles"] < h0[-1]["predicted_cycles"]


# ---- refusals ----

@pytest.mark.parametrize(("args", "says"), [
    (["--method", "cbp", "--weights", "int4"], "--method cbp constrains weights to binary or ternary"),
    (["--method", "cbp", "--weights", "int8"], "choose --weights binary or ternary"),
    (["--method", "hybrid"], "pass --leak none --reset subtract"),
    (["--method", "hybrid", "--leak", "none", "--reset", "zero"], "subtract"),
    (["--activity", "-1"], "--activity"),
])
def test_bad_method_pairings_are_refused_before_training(tmp_path, capsys, args, says):
    out = tmp_path / "runs" / "r"
    refused(["train", "--out", str(out), "--epochs", "1", *args], capsys, out, says)
    assert not out.exists()


def test_config_refuses_unknown_method_and_loss():
    with pytest.raises(ContractError, match="--method 'stdp' unknown; choose one of bptt, cbp, hybrid"):
        TrainConfig(method="stdp")
    with pytest.raises(ContractError, match="--loss"):
        TrainConfig(loss="mse")


# ---- static-digits ----

def test_static_digits_rate_code_is_seeded_on_only_and_spans_the_sample():
    from sklearn.datasets import load_digits
    from snn2fpga.train.data.static_digits import StaticConfig, rate_code

    image = load_digits().images[0] / 16.0
    config = StaticConfig()
    a = rate_code(image, config, np.random.default_rng(5))
    b = rate_code(image, config, np.random.default_rng(5))
    c = rate_code(image, config, np.random.default_rng(6))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert set(a["p"].tolist()) == {1}
    assert a["t"][0] == 0 and a["t"][-1] == (config.slots - 1) * config.slot_us
    assert np.all(np.diff(a["t"]) >= 0)
    # brighter pixels fire more: the digit's ink (centre of the view) against the dark corner
    per_pixel = np.zeros((34, 34))
    np.add.at(per_pixel, (a["y"], a["x"]), 1)
    assert per_pixel.max() > 5 and per_pixel[:3, :3].sum() == 0


# ---- hybrid: ANN → IF/subtract SNN → STDB ----

def test_steps_since_spike_counts_from_the_last_earlier_spike():
    from snn2fpga.train.lif_fn import NEVER, steps_since_spike

    fired = torch.tensor([[0, 1], [1, 0], [0, 0], [1, 1]], dtype=torch.bool)[:, None, :]  # [T=4, B=1, N=2]
    since = steps_since_spike(fired)[:, 0].tolist()
    assert since == [[NEVER, NEVER], [NEVER + 1, 1], [1, 2], [2, 3]]


def test_stdb_surrogate_gradient_is_alpha_exp_minus_beta_dt_over_theta():
    from snn2fpga.train.neuron import QuantLIF

    lif = QuantLIF("full", None, "subtract", 16)
    lif.use_stdb(0.3, 0.5)
    lif.threshold.data.fill_(2.0)
    current = torch.tensor([[[3.0], [0.0], [0.0], [2.0]]], requires_grad=True)  # spikes at t = 0 and t = 3
    spikes, _ = lif(current, torch.tensor(1.0))
    assert spikes.flatten().tolist() == [1, 0, 0, 1]
    grad_t3 = torch.autograd.grad(spikes[0, 3, 0], current)[0]
    # the last step only sees its own spike: ds/du = α·exp(−β·Δt)/θ with Δt = 3 − 0
    assert abs(float(grad_t3[0, 3, 0]) - 0.3 * np.exp(-0.5 * 3) / 2) < 1e-7


def test_hybrid_converts_ann_to_if_subtract_snn_and_fine_tunes_golden_exact(tmp_path):
    from snn2fpga.train.methods.hybrid import prepare

    x, y = tiny_data(n=60)
    cfg = TrainConfig(method="hybrid", leak=None, reset="subtract", hidden=[16], epochs=2, ann_epochs=15, batch_size=8,
                      weights="int4", membrane="full", lr=1e-2)
    snn, report = prepare(cfg, pack(x, y), x, y, 3)
    assert report["ann_accuracy"] > 0.8 and report["converted_accuracy"] > 0.6, report
    assert all(lif.surrogate == "stdb" for lif in snn.lifs)
    assert_golden_equal(snn, x)
    layers = snn.to_golden().layers
    assert all(layer.lif.leak_shift is None and layer.lif.reset == "subtract" for layer in layers)
    assert [layer.lif.threshold for layer in layers] == report["thresholds_balanced"]
    tuned, history, _ = train_model(cfg, pack(x, y), x, y, 3, tmp_path, progress=False, model=snn)
    assert_golden_equal(tuned, x)
    assert len(history) == 2


# ---- structured pruning ----

def test_pruned_network_spikes_as_the_gated_one_and_golden(tmp_path):
    from snn2fpga.train.methods.prune import prune

    x, y = tiny_data()
    cfg = TrainConfig(hidden=[24], epochs=12, batch_size=8, weights="ternary", membrane="ternary", prune=0.05, lr=2e-2)
    gated, history, _ = train_model(cfg, pack(x, y), x[:16], y[:16], 3, tmp_path, progress=False)
    n_open = int((gated.gates[0] > 0).sum())
    assert history[-1]["open_gates"] == [n_open] and 0 < n_open < 24  # the penalty closed some gates, not all
    small, small_cfg = prune(gated, cfg)
    assert small_cfg.hidden == [n_open] and small.fcs[0].weight.shape[0] == n_open and small.fcs[1].weight.shape[1] == n_open
    keep = torch.nonzero(gated.gates[0] > 0).flatten()
    with torch.no_grad():
        s_gated = gated.eval().forward_all(torch.from_numpy(x).float())[0]
        s_small = small.forward_all(torch.from_numpy(x).float())[0]
    assert torch.equal(s_gated[0][:, :, keep], s_small[0]) and torch.equal(s_gated[1], s_small[1])
    assert_golden_equal(small, x)
    assert small.to_golden().layers[0].n_out == n_open


def test_prune_needs_unit_scale_weights(tmp_path, capsys):
    out = tmp_path / "runs" / "r"
    refused(["train", "--out", str(out), "--prune", "0.1", "--weights", "int4"], capsys, out, "--prune removes neurons exactly")


def test_a_run_saved_before_the_method_options_resumes(tmp_path):
    from dataclasses import asdict

    from snn2fpga.train.pipeline import check_run_folder
    from snn2fpga.train.trainer import CHECKPOINT

    cfg = TrainConfig(hidden=[8])
    old = {k: v for k, v in asdict(cfg).items() if k not in ("method", "loss", "activity", "prune")}
    torch.save({"model": {}, "epoch": 1, "meta": {"config": old}}, tmp_path / CHECKPOINT)
    check_run_folder(cfg, tmp_path, resume=True, overwrite=False)  # no refusal: the new fields had their defaults
    with pytest.raises(ValueError, match="method"):
        check_run_folder(TrainConfig(hidden=[8], method="cbp"), tmp_path, resume=True, overwrite=False)
