"""hls4ml C simulation (g++) against the golden model: every layer's spikes at every step, zero mismatches.

Three designs, each converted and compiled once (module-scoped):
- `mixed`: one deep random network whose layers together cover every weight quantizer ×
  every membrane quantizer, with leak shifts and none, both resets, accumulator widths
  from 8 bits (saturating) to 22, and biases (weights from `train.golden.random_network`);
- `brevitas_int4`: a calibrated QuantSNN with int4 weights (Brevitas fixed-point, weight
  scale 2^-k, exported with its Div by the scale), int8 membrane, no leak, zero reset;
- `default`: the default 578 → 128 → 10 ternary/ternary network on 200 saccade-digits
  test samples, with C-simulation time per sample beside the golden model's.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from snn2fpga.core.contract import ContractError, LIFParams, default_delta
from snn2fpga.core.golden import GoldenNetwork, random_network

WEIGHTS = ("binary", "ternary", "int2", "int3", "int4", "int6", "int8")
MEMBRANES = ("ternary", "int2", "int3", "int4", "int8", "int16", "full")
LEAKS = (None, 1, 2, 4)
RESETS = ("subtract", "zero")
ACC_BITS = (8, 10, 12, 16, 22)
WIDTH, N_IN, STEPS = 12, 16, 8


def _lif(membrane: str, theta: int, leak, reset: str, acc_bits: int) -> LIFParams:
    """Contract parameters, widening A until Δ · codes fit (int16 membranes need A ≥ 17)."""
    for a in range(acc_bits, 23):
        th = max(1, min(theta, 2 ** (a - 1) - 1))
        try:
            return LIFParams(th, leak, reset, membrane, default_delta(membrane, th), a)
        except ContractError:
            continue
    raise AssertionError(f"no valid acc_bits for {membrane}, θ={theta}")


def mixed_network(x: np.ndarray, seed: int = 0) -> tuple[GoldenNetwork, list[tuple]]:
    """A chain covering WEIGHTS × MEMBRANES; θ per layer at the 80 % quantile of its currents on `x`."""
    layers, combos = [], []
    placeholder = LIFParams(1, None, "subtract", "full", 1, 16)
    for i, (wi, mi) in enumerate(itertools.product(range(len(WEIGHTS)), range(len(MEMBRANES)))):
        variant = (wi + mi) % 4  # every weight and every membrane quantizer meets all four leak/reset pairs
        leak = None if variant < 2 else LEAKS[1 + i % 3]
        reset = RESETS[variant % 2]
        acc = ACC_BITS[i % len(ACC_BITS)]
        n_in = x.shape[2]
        for attempt in range(20):  # redraw weights until the layer fires at a useful rate
            (layer,) = random_network(
                [n_in, WIDTH], WEIGHTS[wi], placeholder, seed=seed + 100 * attempt + i, with_bias=(i % 3 == 0)
            ).layers
            current = x.reshape(-1, n_in).astype(np.int64) @ layer.weights.T + layer.bias
            layer.lif = _lif(MEMBRANES[mi], int(np.quantile(current, 0.8)), leak, reset, acc)
            out = GoldenNetwork([layer]).run(x).spikes[0]
            if 0.05 < out.mean() < 0.6 and out.std(axis=0).mean() > 0.1:
                break
        layers.append(layer)
        combos.append((WEIGHTS[wi], MEMBRANES[mi], leak, reset, layer.lif.acc_bits, bool(np.any(layer.bias))))
        x = out
    return GoldenNetwork(layers), combos


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    from snn2fpga import export
    from snn2fpga.hls.build import build_hls

    rng = np.random.default_rng(1)
    calib = (rng.random((40, STEPS, N_IN)) < 0.3).astype(np.uint8)
    net, combos = mixed_network(calib, seed=1)  # seed 0 leaves one int2/int16 layer firing at 0.03 %: no check there
    tmp = tmp_path_factory.mktemp("hls_mixed")
    path = export.export_network(net, tmp / "model.qonnx", steps=STEPS)
    x = (rng.random((30, STEPS, N_IN)) < 0.3).astype(np.uint8)
    return build_hls(path, tmp / "hls", tb_spikes=x[:2]), net, combos, x


def test_mixed_network_covers_every_quantizer_combination(mixed):
    _, _, combos, _ = mixed
    assert {(w, m) for w, m, *_ in combos} == set(itertools.product(WEIGHTS, MEMBRANES))
    for k in (0, 1):  # per weight quantizer and per membrane quantizer: leak and no leak, both resets
        for q in (WEIGHTS, MEMBRANES)[k]:
            seen = {(c[2] is None, c[3]) for c in combos if c[k] == q}
            assert seen == {(True, "subtract"), (True, "zero"), (False, "subtract"), (False, "zero")}, q
    assert {c[4] for c in combos} >= {8, 22} and any(c[5] for c in combos)


def test_mixed_network_saturates_somewhere(mixed):
    _, net, _, x = mixed
    inputs = [x] + net.run(x).spikes[:-1]
    over = [
        int(np.abs(s.astype(np.int64) @ layer.weights.T + layer.bias).max()) > 2 ** (layer.lif.acc_bits - 1) - 1
        for s, layer in zip(inputs, net.layers)
    ]
    assert any(over)  # the current alone leaves the A-bit range: sat_A is exercised


def test_mixed_network_csim_equals_golden_every_layer_every_step(mixed):
    runner, net, combos, x = mixed
    result = runner.compare(x)
    assert result.mismatches == [0] * len(combos), [
        (combos[i], m) for i, m in enumerate(result.mismatches) if m
    ]
    assert result.label_mismatches == 0
    rates = [float(s.mean()) for s in net.run(x).spikes]
    assert min(rates) > 0.02 and max(rates) < 0.9, rates  # every layer's check is meaningful


def test_state_is_cleared_between_samples(mixed):
    runner, _, _, x = mixed
    twice = runner.run(np.concatenate([x[:3], x[:3]]))
    for s in twice.spikes:
        np.testing.assert_array_equal(s[:3], s[3:])


def test_datapath_types_are_exact_integers(mixed):
    runner, _, _, _ = mixed
    defines = (runner.out_dir / "firmware" / "defines.h").read_text()
    types = re.findall(r"typedef\s+(.+?)\s+\w+;", defines)
    assert types and not any("float" in t or "double" in t for t in types)
    for t in types:
        fixed = re.fullmatch(r"ap_u?fixed<(\d+),\s*(-?\d+)(,.*)?>", t)
        assert fixed is None or fixed.group(1) == fixed.group(2), t  # no fractional bits
    assert "nnet_lif.h" in (runner.out_dir / "firmware" / "parameters.h").read_text()
    assert (runner.out_dir / "build_prj.tcl").is_file()


@pytest.fixture(scope="module")
def brevitas_int4(tmp_path_factory):
    from snn2fpga import export
    from snn2fpga.export.testing import make_run, random_spikes
    from snn2fpga.hls.build import build_hls

    tmp = tmp_path_factory.mktemp("hls_int4")
    calib = random_spikes(32, 6, 40, rate=0.2, seed=3)
    run = make_run(tmp / "run", calib, n_classes=6, weights="int4", membrane="int8", leak=None, reset="zero", hidden=[24], steps=6)
    path = export.export_model(run, check=False)
    x = random_spikes(24, 6, 40, rate=0.2, seed=4)
    return build_hls(path, tmp / "hls", tb_spikes=x[:3]), x


def test_brevitas_int4_scale_folds_exactly(brevitas_int4):
    runner, x = brevitas_int4
    assert runner.meta.weight_scales[0] < 1.0  # a real power-of-two scale, divided away in the graph
    result = runner.check(x)
    assert result.mismatches == [0, 0]
    assert any(s.any() for s in runner.golden.run(x).spikes)


def test_generated_cpp_testbench_reproduces_golden(brevitas_int4, tmp_path):
    """Compile the project's own C++ testbench (what Vitis csim runs) with g++; its log equals the golden spikes."""
    import shutil
    import subprocess

    from snn2fpga.hls.testbench import compare_log

    runner, _ = brevitas_int4
    if shutil.which("g++") is None:
        pytest.skip("g++ not found")
    d = runner.out_dir
    exe = tmp_path / "tb"
    subprocess.run(
        ["nice", "-n", "10", "g++", "-O1", "-std=c++11", "-Ifirmware/ap_types", "-Ifirmware",
         '-DWEIGHTS_DIR="firmware/weights"', "snn_test.cpp", "firmware/snn.cpp", "-o", str(exe)],
        cwd=d, check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run([str(exe)], cwd=d, check=True, capture_output=True)
    mismatches, steps = compare_log(d, "csim")
    assert (mismatches, steps) == (0, 3 * 6)


@pytest.fixture(scope="module")
def default_design(tmp_path_factory):
    from snn2fpga import export
    from snn2fpga.export.testing import make_run
    from snn2fpga.hls.build import build_hls
    from snn2fpga.train.data import load_dataset

    data = load_dataset("saccade-digits", None, steps=10, pool=2)
    tmp = tmp_path_factory.mktemp("hls_default")
    run = make_run(tmp / "run", data.train_x[:256], n_classes=len(data.classes))  # default config: ternary/ternary
    path = export.export_model(run, check=False)
    return build_hls(path, tmp / "hls", tb_spikes=data.test_x[:2]), data.test_x[:200]


def test_default_network_on_saccade_digits(default_design, record_property):
    runner, x = default_design
    assert runner.n_in == 578 and runner.layer_sizes == [128, 10]
    assert [layer.weight_quant for layer in runner.golden.layers] == ["ternary", "ternary"]
    result = runner.check(x)
    assert result.samples >= 200 and result.mismatches == [0, 0] and result.label_mismatches == 0
    record_property("csim_ms_per_sample", round(result.csim_s_per_sample * 1e3, 3))
    record_property("golden_ms_per_sample", round(result.golden_s_per_sample * 1e3, 3))
    print(f"\ndefault 578-128-10 on {result.samples} saccade-digits samples: {result.summary()}")
