"""N-Cars (Sironi et al. 2018): Prophesee DAT files of 100 ms ATIS recordings, cars and background.

    <data-dir>/n-cars_train/{background,cars}/*.dat    (Prophesee_Dataset_n_cars.zip, unpacked)
    <data-dir>/n-cars_test/{background,cars}/*.dat

DAT format (Prophesee, `dat_events_tools.py`): header lines "% key value\\n"; then one
byte event type (0 Event2D, 12 EventCD: the same layout) and one byte event size (8);
then events of two little-endian uint32: t (µs) and x | y << 14 | p << 28 (x and y 14
bits, p 4 bits, 0 OFF / 1 ON). This is the DAT container, not EVT 2.0: Prophesee's
.raw files hold EVT 2.0 words, and sniff_format names them apart. Samples are crops of
at most 120×100 pixels; the folder gives the class (background 0, cars 1, as in tonic).
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import numpy as np

from snn2fpga.core.events import EventFileError, make_events, read_bytes
from snn2fpga.train.data.sniff import HEAD_BYTES, check_event_body, expect_format, text_header_end

NCARS_SENSOR: tuple[int, int, int] = (120, 100, 2)
NCARS_CLASSES: list[str] = ["background", "cars"]
NCARS_POOL = 4  # 120×100 → 30×25
SPLITS = {"train": "n-cars_train", "test": "n-cars_test"}
EVENT_TYPES = (0, 12)  # Event2D, EventCD
EVENT_SIZE = 8


def _header_end(data: bytes, path: Path) -> int:
    """Offset just past the "% …" header lines (where the event type byte is)."""
    expect_format(data[:HEAD_BYTES], path, "Prophesee DAT", "a Prophesee DAT (N-Cars)")
    return text_header_end(data, path, b"% ")


def decode_dat(
    data: bytes, path: str | PathLike[str] = "<bytes>", sensor_size: tuple[int, int, int] = NCARS_SENSOR
) -> np.ndarray:
    """Decode the bytes of a Prophesee DAT file of CD events into EVENT_DTYPE events."""
    path = Path(path)
    pos = _header_end(data, path)
    if len(data) < pos + 2:
        raise EventFileError(path, "file ends before the event type and size bytes", offset=pos)
    etype, esize = data[pos], data[pos + 1]
    if etype not in EVENT_TYPES or esize != EVENT_SIZE:
        raise EventFileError(
            path, f"event type {etype}, size {esize}: expected CD events (type 0 or 12) of {EVENT_SIZE} bytes", offset=pos
        )
    pos += 2
    check_event_body(data, pos, EVENT_SIZE, path)
    raw = np.frombuffer(data, "<u4", offset=pos).astype(np.int64)
    t, word = raw[0::2], raw[1::2]
    x, y, p = word & 0x3FFF, (word >> 14) & 0x3FFF, word >> 28
    width, height = sensor_size[0], sensor_size[1]
    bad = np.flatnonzero((x >= width) | (y >= height))
    if bad.size:
        i = int(bad[0])
        raise EventFileError(
            path,
            f"event {i} at (x={x[i]}, y={y[i]}) is outside the {width}x{height} sensor ({bad.size} such events)",
            offset=pos + EVENT_SIZE * i,
        )
    bad = np.flatnonzero(p > 1)
    if bad.size:
        i = int(bad[0])
        raise EventFileError(path, f"event {i} has polarity {p[i]}: CD events are 0 or 1", offset=pos + EVENT_SIZE * i)
    bad = np.flatnonzero(np.diff(t) < 0)
    if bad.size:
        i = int(bad[0]) + 1
        raise EventFileError(
            path, f"timestamp of event {i} goes back from {t[i - 1]} to {t[i]} µs", offset=pos + EVENT_SIZE * i
        )
    return make_events(x, y, t, p)


def read_ncars_dat(path: str | PathLike[str], sensor_size: tuple[int, int, int] = NCARS_SENSOR) -> np.ndarray:
    """Read one N-Cars .dat sample; any defect raises EventFileError naming the file and offset."""
    path = Path(path)
    return decode_dat(read_bytes(path), path, sensor_size)


def find_root(data_dir: str | PathLike[str]) -> Path:
    """The folder holding n-cars_train/ and n-cars_test/: `data_dir` or a folder inside it."""
    root = Path(data_dir).expanduser().resolve()
    if not root.is_dir():
        raise EventFileError(root, "dataset folder not found")
    for candidate in (root, *sorted(p for p in root.iterdir() if p.is_dir())):
        if all((candidate / name).is_dir() for name in SPLITS.values()):
            return candidate
    found = ", ".join(sorted(p.name for p in root.iterdir())[:8]) or "nothing"
    raise EventFileError(
        root, f"not an N-Cars folder: expected n-cars_train/ and n-cars_test/ (here or one level down); found {found}"
    )


def list_split(root: Path, split: str) -> list[tuple[Path, int]]:
    """(file, label) of `<root>/n-cars_<split>/{background,cars}/*.dat`, by class then name."""
    folder = root / SPLITS[split]
    samples: list[tuple[Path, int]] = []
    for label, name in enumerate(NCARS_CLASSES):
        if not (folder / name).is_dir():
            found = ", ".join(sorted(p.name for p in folder.iterdir())[:8]) or "nothing"
            raise EventFileError(folder, f"not an N-Cars split: expected background/ and cars/; found {found}")
        samples.extend((f, label) for f in sorted((folder / name).glob("*.dat")))
    if not samples:
        raise EventFileError(folder, "no .dat files in background/ or cars/")
    return samples


def ncars_files(data_dir: str | None, seed: int, test_fraction: float):
    """DatasetSpec.files for `ncars`: the published train and test splits (seed, test_fraction unused)."""
    if data_dir is None:
        raise ValueError("dataset 'ncars' needs data_dir: the folder holding n-cars_train/ and n-cars_test/")
    root = find_root(data_dir)
    return list_split(root, "train"), list_split(root, "test")
