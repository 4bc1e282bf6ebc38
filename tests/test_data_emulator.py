"""DVS emulator: threshold crossings, polarity, timing, refractory period, noise, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from snn2fpga.train.data import DVSConfig, emulate_dvs, pixel_thresholds

QUIET = DVSConfig(threshold_on=0.25, threshold_off=0.25, mismatch=0.0, noise_hz=0.0)


def ramp(log_start: float, log_end: float, shape: tuple[int, int], at: tuple[int, int], n: int = 101):
    """Frames in which only pixel `at` (row, col) changes, linearly in log intensity; times 0..n−1 ms."""
    frames = np.ones((n,) + shape)
    frames[:, at[0], at[1]] = np.exp(np.linspace(log_start, log_end, n))
    return frames, np.arange(n) * 1000.0


@pytest.mark.parametrize(("start", "end", "polarity"), [(0.0, 1.0, 1), (0.0, -1.0, 0)])
def test_one_pixel_ramp_emits_one_event_per_threshold(start: float, end: float, polarity: int) -> None:
    frames, times = ramp(start, end, (2, 5), at=(1, 3))
    cfg = DVSConfig(**{**QUIET.__dict__, "log_eps": 1e-12})
    for seed in range(5):
        ev = emulate_dvs(frames, times, cfg, seed=seed)
        assert len(ev) in (3, 4)  # |Δlog| = 4 thresholds, less the unknown initial level (< 1 threshold)
        assert set(ev["x"].tolist()) == {3} and set(ev["y"].tolist()) == {1}
        assert set(ev["p"].tolist()) == {polarity}
        # log intensity moves 0.01 per ms: one threshold (0.25) every 25 ms, to the µs
        assert np.all(np.abs(np.diff(ev["t"]) - 25_000) <= 1)


def test_static_scene_without_noise_is_silent_and_noise_rate_matches() -> None:
    frames = np.full((11, 34, 34), 0.5)
    times = np.arange(11) * 100_000.0  # 1 s
    assert len(emulate_dvs(frames, times, QUIET, seed=0)) == 0
    noisy = emulate_dvs(frames, times, DVSConfig(noise_hz=10.0), seed=0)
    expected = 10.0 * 34 * 34 * 1.0
    assert abs(len(noisy) - expected) < 5 * np.sqrt(expected)
    assert 0.45 < noisy["p"].mean() < 0.55
    assert np.all(np.diff(noisy["t"]) >= 0) and noisy["t"].min() >= 0 and noisy["t"].max() <= 1_000_000


def test_refractory_period_spaces_a_pixel_events() -> None:
    frames, times = ramp(0.0, 4.0, (1, 1), at=(0, 0), n=11)  # 0.4 per ms: an event every 625 µs
    free = emulate_dvs(frames, times, QUIET, seed=1)
    held = emulate_dvs(frames, times, DVSConfig(**{**QUIET.__dict__, "refractory_us": 2_000}), seed=1)
    assert len(free) >= 15
    assert 3 <= len(held) <= 6
    assert np.all(np.diff(held["t"]) >= 2_000 - 1)


def test_moving_edge_is_deterministic_sorted_and_in_range() -> None:
    x = np.arange(20)
    times = np.arange(50) * 2000.0
    # a bright region whose edge moves right from column 4 to 13.8
    frames = np.array([np.tile(0.1 + 0.9 * (x < 4 + 0.2 * i), (16, 1)) for i in range(50)])
    cfg = DVSConfig(noise_hz=1.0, mismatch=0.05)
    a, b = emulate_dvs(frames, times, cfg, seed=7), emulate_dvs(frames, times, cfg, seed=7)
    assert a.tobytes() == b.tobytes()
    assert a.tobytes() != emulate_dvs(frames, times, cfg, seed=8).tobytes()
    assert np.all(np.diff(a["t"]) >= 0)
    assert a["x"].max() < 20 and a["y"].max() < 16 and a["x"].min() >= 0 and a["y"].min() >= 0
    on = a[a["p"] == 1]
    assert len(on) / len(a) > 0.9  # the bright region grows: the pixels it sweeps turn from dark to bright
    assert ((on["x"] >= 4) & (on["x"] <= 13)).mean() > 0.95  # …which are columns 4..13


def test_threshold_mismatch_map() -> None:
    cfg = DVSConfig(threshold_on=0.2, threshold_off=0.3, mismatch=0.1)
    on, off = pixel_thresholds((100, 100), cfg, seed=4)
    assert on.shape == off.shape == (100, 100)
    assert on.mean() == pytest.approx(0.2, rel=0.01) and on.std() == pytest.approx(0.02, rel=0.05)
    assert off.mean() == pytest.approx(0.3, rel=0.01)
    assert np.array_equal(on, pixel_thresholds((100, 100), cfg, seed=4)[0])
    with pytest.raises(ValueError):
        DVSConfig(threshold_on=0.0)
