"""`from_tonic`: a tonic dataset, or any object shaped like one, binned by this project's own binning.

A tonic dataset is indexable, has `__len__` and `sensor_size` (W, H, P), and its items
are (events, label): events a structured array with fields x, y, t, p — or x, t, p for
audio datasets (SHD, SSC), whose y is 0 — and t in µs. tonic's transforms may reorder
events and tonic's polarities may be bool or ±1, so each sample's events are sorted by
time (stably), p becomes p > 0 on a 2-polarity sensor and 0 on a 1-polarity one, and
the sample is binned exactly as `load_dataset` bins a file (`bin_events`, docs/contract.md
"Input encoding"). Nothing is downloaded: the caller builds the tonic objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from snn2fpga.core.binning import bin_events, n_inputs
from snn2fpga.train.data.datasets import EventDataset
from snn2fpga.core.events import make_events


def tonic_events(events: np.ndarray, sensor_size: tuple[int, int, int]) -> np.ndarray:
    """One tonic sample's events as time-sorted EVENT_DTYPE events for a (W, H, P) sensor."""
    names = set(events.dtype.names or ())
    if not {"x", "t"} <= names:
        raise ValueError(f"tonic events need fields x and t (and y, p); got dtype {events.dtype}")
    zero = np.zeros(len(events), np.int64)
    t = np.asarray(events["t"])
    t = np.rint(t).astype(np.int64) if t.dtype.kind == "f" else t.astype(np.int64)
    p = np.asarray(events["p"]) if "p" in names and sensor_size[2] > 1 else zero
    p = (p > 0).astype(np.int64) if sensor_size[2] == 2 else p.astype(np.int64)
    y = np.asarray(events["y"]).astype(np.int64) if "y" in names else zero
    order = np.argsort(t, kind="stable")
    return make_events(np.asarray(events["x"]).astype(np.int64)[order], y[order], t[order], p[order])


def _sensor_size(dataset: Any) -> tuple[int, int, int]:
    """The dataset's (W, H, P) sensor size, checked."""
    size = getattr(dataset, "sensor_size", None)
    if size is None or len(size) != 3 or not all(int(v) >= 1 for v in size):
        raise ValueError(f"{type(dataset).__name__} needs a sensor_size (W, H, P) of positive integers, got {size!r}")
    return tuple(int(v) for v in size)


def _classes(dataset: Any, labels: np.ndarray) -> list[str]:
    """Class names from the dataset's `classes` (list, dict name → index, or bytes keys), else "0", "1", …"""
    found = getattr(dataset, "classes", None)
    if isinstance(found, dict):
        names = [name for name, _ in sorted(found.items(), key=lambda item: item[1])]
    elif found is not None and len(found):
        names = [c.decode() if isinstance(c, bytes) else str(c) for c in found]
    else:
        names = [str(c) for c in range(int(labels.max(initial=0)) + 1)]
    if len(labels) and (labels.min() < 0 or labels.max() >= len(names)):
        raise ValueError(f"labels span {labels.min()}..{labels.max()}, but {type(dataset).__name__} names {len(names)} classes")
    return names


def _bin_all(dataset: Sequence, sensor_size: tuple[int, int, int], steps: int, pool: int) -> tuple[np.ndarray, np.ndarray]:
    """Every sample binned: (x uint8 [n, steps, n_in], y int64 [n])."""
    x = np.zeros((len(dataset), steps, n_inputs(sensor_size, pool)), dtype=np.uint8)
    y = np.zeros(len(dataset), dtype=np.int64)
    for i in range(len(dataset)):
        events, label = dataset[i]
        x[i] = bin_events(tonic_events(events, sensor_size), sensor_size, steps, pool)
        y[i] = int(label)
    return x, y


def from_tonic(train_set: Sequence, test_set: Sequence, steps: int, pool: int = 1, name: str | None = None) -> EventDataset:
    """Bin tonic datasets (train and test) into the EventDataset that `load_dataset` returns.

    Both must have the same `sensor_size`; class names come from the train set's `classes`
    if it has them. `name` defaults to the train set's class name; `test_paths` are
    "<name>[<index>]", tonic items having no files.
    """
    if steps < 1 or pool < 1:
        raise ValueError(f"steps and pool must be positive integers, got steps={steps}, pool={pool}")
    sensor_size = _sensor_size(train_set)
    if _sensor_size(test_set) != sensor_size:
        raise ValueError(f"train and test sensor sizes differ: {sensor_size} and {_sensor_size(test_set)}")
    name = name or type(train_set).__name__
    train_x, train_y = _bin_all(train_set, sensor_size, steps, pool)
    test_x, test_y = _bin_all(test_set, sensor_size, steps, pool)
    return EventDataset(
        name=name,
        train_x=train_x,
        train_y=train_y,
        test_x=test_x,
        test_y=test_y,
        sensor_size=sensor_size,
        pool=pool,
        steps=steps,
        n_in=n_inputs(sensor_size, pool),
        classes=_classes(train_set, np.concatenate([train_y, test_y])),
        test_paths=[f"{name}[{i}]" for i in range(len(test_y))],
    )
