"""Binning, exactly docs/contract.md "Input encoding": hand-computed cases and a loop reference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from snn2fpga.train.data import bin_events, make_events, n_inputs, pooled_size


def ev(*rows: tuple[int, int, int, int]) -> np.ndarray:
    """Events from (x, y, t, p) rows."""
    x, y, t, p = zip(*rows)
    return make_events(np.array(x), np.array(y), np.array(t), np.array(p))


def test_sizes_round_up() -> None:
    assert pooled_size((34, 34, 2), 2) == (17, 17)
    assert n_inputs((34, 34, 2), 2) == 578
    assert n_inputs((34, 34, 2), 1) == 2312
    assert pooled_size((5, 3, 2), 2) == (3, 2)  # (W', H')
    assert n_inputs((5, 3, 2), 2) == 12
    assert n_inputs((128, 128, 2), 3) == 2 * 43 * 43
    assert n_inputs((700, 1, 1), 1) == 700  # SHD: one polarity, the channel is x
    assert n_inputs((700, 1, 1), 4) == 175


def test_one_polarity_sensor_index_is_the_channel() -> None:
    # SHD-style (700, 1, 1): index y·W + x = x; T=2 over t 0..9
    got = bin_events(ev((699, 0, 0, 0), (3, 0, 4, 0), (3, 0, 5, 0), (0, 0, 9, 0)), (700, 1, 1), steps=2)
    assert got.shape == (2, 700)
    assert [np.flatnonzero(row).tolist() for row in got] == [[3, 699], [0, 3]]
    pooled = bin_events(ev((699, 0, 0, 0), (5, 0, 9, 0)), (700, 1, 1), steps=1, pool=4)
    assert pooled.shape == (1, 175) and np.flatnonzero(pooled[0]).tolist() == [1, 174]
    with pytest.raises(ValueError, match="0..0 for a 1-polarity sensor"):
        bin_events(ev((1, 0, 0, 1)), (700, 1, 1), steps=1)


def test_hand_computed_pooling_polarity_and_bins() -> None:
    # sensor W=5, H=3, pool 2 → W'=3, H'=2, N_in=12; T=4 over t 10..29: bin = (t − 10)·4 // 20
    events = ev(
        (0, 0, 10, 0),  # first event → bin 0, index 0
        (1, 1, 14, 0),  # same pooled pixel, still bin 0 → merged into one spike
        (4, 2, 15, 1),  # bin 1; index 1·6 + 1·3 + 2 = 11
        (2, 0, 24, 1),  # bin 2; index 6 + 0 + 1 = 7
        (3, 2, 25, 0),  # bin 3; index 0 + 3 + 1 = 4
        (4, 1, 29, 0),  # last event → bin 3; index 0 + 0 + 2 = 2
    )
    want = np.zeros((4, 12), np.uint8)
    for b, i in ((0, 0), (1, 11), (2, 7), (3, 4), (3, 2)):
        want[b, i] = 1
    got = bin_events(events, (5, 3, 2), steps=4, pool=2)
    assert got.dtype == np.uint8 and got.shape == (4, 12)
    assert np.array_equal(got, want)


def test_no_pooling_index_is_p_hw_plus_y_w_plus_x() -> None:
    got = bin_events(ev((4, 2, 0, 1), (1, 0, 7, 0)), (5, 3, 2), steps=2)
    assert got.shape == (2, 30)
    assert np.flatnonzero(got[0]).tolist() == [1 * 15 + 2 * 5 + 4]
    assert np.flatnonzero(got[1]).tolist() == [1]


def test_bin_edges_first_and_last_timestamp() -> None:
    # span 100..199 (100 µs), T=10: bins of exactly 10 µs; t=109 → bin 0, t=110 → bin 1, t=199 → bin 9
    got = bin_events(ev((0, 0, 100, 0), (1, 0, 109, 0), (2, 0, 110, 0), (3, 0, 199, 0)), (4, 1, 2), steps=10)
    assert [np.flatnonzero(got[:, i]).tolist() for i in range(4)] == [[0], [0], [1], [9]]
    # a single event (t_first == t_last) lands in bin 0; T=1 puts everything in one bin
    assert np.flatnonzero(bin_events(ev((0, 0, 5, 1)), (4, 1, 2), steps=3).any(axis=1)).tolist() == [0]
    assert bin_events(ev((0, 0, 5, 1), (3, 0, 900, 0)), (4, 1, 2), steps=1).sum() == 2


def test_matches_loop_reference_on_random_events() -> None:
    rng = np.random.default_rng(3)
    w, h, steps, pool = 34, 34, 7, 3
    n = 2000
    t = np.sort(rng.integers(50, 90_000, n))
    events = make_events(rng.integers(0, w, n), rng.integers(0, h, n), t, rng.integers(0, 2, n))
    hp, wp = math.ceil(h / pool), math.ceil(w / pool)
    want = np.zeros((steps, 2 * hp * wp), np.uint8)
    t0, t1 = int(events["t"][0]), int(events["t"][-1])
    for x, y, t, p in events.tolist():
        want[(t - t0) * steps // (t1 - t0 + 1), p * hp * wp + (y // pool) * wp + x // pool] = 1
    assert np.array_equal(bin_events(events, (w, h, 2), steps, pool), want)


@pytest.mark.parametrize(
    ("events", "kwargs", "words"),
    [
        (ev((5, 0, 0, 0)), {}, "outside"),
        (ev((0, 3, 0, 0)), {}, "outside"),
        (ev((0, 0, 0, 2)), {}, "polarity"),
        (ev((0, 0, 9, 0), (0, 0, 3, 0)), {}, "sorted"),
        (make_events([], [], [], []), {}, "empty"),
        (ev((0, 0, 0, 0)), {"steps": 0}, "steps"),
        (ev((0, 0, 0, 0)), {"pool": 0}, "pool"),
    ],
)
def test_rejects_invalid_input(events: np.ndarray, kwargs: dict, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        bin_events(events, (5, 3, 2), **{"steps": 4, **kwargs})
