"""N-MNIST's original 40-bit event files: reader, atomic writer and folder lister.

Format (Orchard et al. 2015), 5 bytes per event, big-endian bit order:
x (8 bits), y (8 bits), polarity (1 bit, 1 = ON), timestamp (23 bits, µs).
The bit layout is the one tonic's `tonic.io.read_mnist_file` decodes (the tests check
that both agree on the real recordings). We decode it here rather than call tonic
because importing tonic pulls in torch, and because its reader silently drops rows
with y = 240 (ATIS overflow markers); here every row is an event or an error.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import numpy as np

from snn2fpga.core.files import write_bytes
from snn2fpga.core.events import EventFileError, make_events, read_bytes
from snn2fpga.train.data.sniff import HEAD_BYTES, expect_format

NMNIST_SENSOR: tuple[int, int, int] = (34, 34, 2)  # (W, H, polarities), tonic's order
NMNIST_CLASSES: list[str] = [str(d) for d in range(10)]
BYTES_PER_EVENT = 5
MAX_TIMESTAMP = 2**23 - 1


def read_nmnist_bin(
    path: str | PathLike[str], sensor_size: tuple[int, int, int] = NMNIST_SENSOR
) -> np.ndarray:
    """Read one N-MNIST .bin file into EVENT_DTYPE events; any defect raises EventFileError."""
    path = Path(path)
    data = read_bytes(path)
    if len(data) == 0:
        raise EventFileError(path, "empty sample: the file holds no events")
    expect_format(data[:HEAD_BYTES], path, None, "an N-MNIST .bin")  # no signature is a valid 34×34 event
    if len(data) % BYTES_PER_EVENT:
        whole = len(data) - len(data) % BYTES_PER_EVENT
        raise EventFileError(
            path,
            f"size {len(data)} bytes is not a multiple of {BYTES_PER_EVENT}: truncated or "
            f"corrupt, {len(data) % BYTES_PER_EVENT} stray bytes after {whole // BYTES_PER_EVENT} events",
            offset=whole,
        )
    raw = np.frombuffer(data, dtype=np.uint8).reshape(-1, BYTES_PER_EVENT).astype(np.int64)
    x, y = raw[:, 0], raw[:, 1]
    p = raw[:, 2] >> 7
    t = ((raw[:, 2] & 0x7F) << 16) | (raw[:, 3] << 8) | raw[:, 4]
    width, height = sensor_size[0], sensor_size[1]
    outside = np.flatnonzero((x >= width) | (y >= height))
    if outside.size:
        i = int(outside[0])
        raise EventFileError(
            path,
            f"event {i} at (x={x[i]}, y={y[i]}) is outside the {width}x{height} sensor "
            f"({outside.size} such events)",
            offset=i * BYTES_PER_EVENT,
        )
    back = np.flatnonzero(np.diff(t) < 0)
    if back.size:
        i = int(back[0]) + 1
        raise EventFileError(
            path,
            f"timestamp of event {i} goes back from {t[i - 1]} to {t[i]} µs "
            "(23-bit wrap-around or corrupt file)",
            offset=i * BYTES_PER_EVENT,
        )
    return make_events(x, y, t, p)


def encode_nmnist(events: np.ndarray) -> bytes:
    """Encode events as N-MNIST 40-bit records; ValueError if a field does not fit."""
    if events.dtype.names is None or not set("xytp") <= set(events.dtype.names):
        raise ValueError(f"events need fields x, y, t, p; got dtype {events.dtype}")
    x, y, t, p = (np.asarray(events[f], dtype=np.int64) for f in "xytp")
    for name, values, top in (("x", x, 255), ("y", y, 255), ("t", t, MAX_TIMESTAMP), ("p", p, 1)):
        if values.size and (values.min() < 0 or values.max() > top):
            raise ValueError(f"event field {name} spans {values.min()}..{values.max()}, outside 0..{top}")
    raw = np.empty((len(events), BYTES_PER_EVENT), dtype=np.uint8)
    raw[:, 0] = x
    raw[:, 1] = y
    raw[:, 2] = (p << 7) | (t >> 16)
    raw[:, 3] = (t >> 8) & 0xFF
    raw[:, 4] = t & 0xFF
    return raw.tobytes()


def write_nmnist_bin(path: str | PathLike[str], events: np.ndarray) -> None:
    """Write events as an N-MNIST .bin file atomically (temporary name, then rename)."""
    path = Path(path)
    if len(events) == 0:
        raise EventFileError(path, "refusing to write an empty sample (the reader rejects it)")
    try:
        data = encode_nmnist(events)
    except ValueError as err:
        raise EventFileError(path, f"cannot encode: {err}") from None
    write_bytes(path, data)


def has_split(root: str | PathLike[str], split: str) -> bool:
    """Whether `<root>/<split>` exists as a folder (e.g. whether a Test/ split is present)."""
    return (Path(root) / split).is_dir()


def list_nmnist(root: str | PathLike[str], split: str = "Train") -> list[tuple[Path, int]]:
    """List `<root>/<split>/<digit>/*.bin` as (path, label), sorted by label then file name."""
    root = Path(root)
    folder = root / split
    if not root.is_dir():
        raise EventFileError(root, "dataset folder not found")
    if not folder.is_dir():
        raise EventFileError(folder, f"split folder not found (expected {root}/{split}/<digit>/*.bin)")
    samples: list[tuple[Path, int]] = []
    for sub in sorted(folder.iterdir()):
        if sub.name.startswith("."):
            continue
        if not sub.is_dir():
            continue
        if sub.name not in NMNIST_CLASSES:
            names = ", ".join(NMNIST_CLASSES)
            raise EventFileError(sub, f"unexpected folder: class folders are named {names}")
        label = int(sub.name)
        samples.extend((f, label) for f in sorted(sub.glob("*.bin")))
    if not samples:
        raise EventFileError(folder, "no .bin files in any <digit>/ folder")
    return samples
