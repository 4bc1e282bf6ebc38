"""Events → binary spike tensors [T, N_in], exactly docs/contract.md "Input encoding"."""

from __future__ import annotations

import numpy as np


def pooled_size(sensor_size: tuple[int, int, int], pool: int) -> tuple[int, int]:
    """(W', H') after pooling by k: each side divided rounding up."""
    if pool < 1:
        raise ValueError(f"pool must be a positive integer, got {pool}")
    width, height = sensor_size[0], sensor_size[1]
    return -(-width // pool), -(-height // pool)


def n_inputs(sensor_size: tuple[int, int, int], pool: int = 1) -> int:
    """N_in = P · ceil(H/k) · ceil(W/k) for a (W, H, P) sensor, the input width of the first layer."""
    width, height = pooled_size(sensor_size, pool)
    return sensor_size[2] * height * width


def bin_events(
    events: np.ndarray, sensor_size: tuple[int, int, int], steps: int, pool: int = 1
) -> np.ndarray:
    """Bin one sample's time-sorted events into uint8 spikes [steps, N_in] (contract encoding).

    Bin of an event: floor((t − t_first) · T / (t_last − t_first + 1)); input index
    p·H'·W' + (y // k)·W' + (x // k), p = 0 OFF / 1 ON (a 1-polarity sensor such as SHD's
    700 channels, (700, 1, 1), has only p = 0); a spike if ≥ 1 event lands there.
    """
    if steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps}")
    if len(events) == 0:
        raise ValueError("cannot bin an empty sample: it has no first or last timestamp")
    width, height, polarities = sensor_size
    pw, ph = pooled_size(sensor_size, pool)
    x, y, t, p = (np.asarray(events[f], dtype=np.int64) for f in "xytp")
    if x.min() < 0 or x.max() >= width or y.min() < 0 or y.max() >= height:
        raise ValueError(
            f"events span x {x.min()}..{x.max()}, y {y.min()}..{y.max()}: outside the {width}x{height} sensor"
        )
    if p.min() < 0 or p.max() >= polarities:
        raise ValueError(f"polarity must be in 0..{polarities - 1} for a {polarities}-polarity sensor, got values {p.min()}..{p.max()}")
    if np.any(np.diff(t) < 0):
        raise ValueError("events must be sorted by timestamp (first and last events define the bins)")
    t_first, t_last = t[0], t[-1]
    bins = (t - t_first) * steps // (t_last - t_first + 1)
    index = p * (ph * pw) + (y // pool) * pw + (x // pool)
    spikes = np.zeros((steps, polarities * ph * pw), dtype=np.uint8)
    spikes[bins, index] = 1
    return spikes
