"""The DVS128 Gesture layout (Amir et al. 2017): one sample per labelled segment of a recording.

    DvsGesture/
        user01_fluorescent.aedat         AEDAT 3.1 recording, DVS128 (128×128)
        user01_fluorescent_labels.csv    class,startTime_usec,endTime_usec  (class 1..11)
        …
        trials_to_train.txt              one .aedat file name per line
        trials_to_test.txt

A sample is the events of one labelled segment, start ≤ t < end. Labels are checked when
listed (header, every row: three integers, class in range, start < end) and against the
recording when read (the segment must lie within the recording's time span and hold
events); a mismatch raises EventFileError naming the labels file and the row's byte
offset. The embedded `dvs-motions` dataset is written in this same layout.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from os import PathLike
from pathlib import Path

import numpy as np

from snn2fpga.train.data.aedat import DVS128_SENSOR, AedatRecording, decode_aedat31, warn_skipped
from snn2fpga.core.events import EventFileError, read_bytes

DVSGESTURE_SENSOR: tuple[int, int, int] = DVS128_SENSOR
DVSGESTURE_CLASSES: list[str] = [
    "hand-clap",
    "right-hand-wave",
    "left-hand-wave",
    "right-arm-clockwise",
    "right-arm-anticlockwise",
    "left-arm-clockwise",
    "left-arm-anticlockwise",
    "arm-roll",
    "air-drums",
    "air-guitar",
    "other",
]
DVS_POOL = 4  # default spatial pooling for 128×128 DVS data: 128 → 32
LABELS_HEADER = "class,startTime_usec,endTime_usec"
TRIALS = {"train": "trials_to_train.txt", "test": "trials_to_test.txt"}


@dataclass(frozen=True)
class Segment:
    """One labelled segment: a sample. Path-like (os.fspath gives the recording's path)."""

    aedat: Path
    labels: Path
    row: int  # byte offset of the segment's row in the labels file
    label: int  # class index, 0-based
    start: int  # µs, inclusive
    end: int  # µs, exclusive

    def __fspath__(self) -> str:
        return str(self.aedat)

    def __str__(self) -> str:
        return f"{self.aedat}#{self.start}-{self.end}"


def labels_path(aedat: str | PathLike[str]) -> Path:
    """`userNN_lighting.aedat` → `userNN_lighting_labels.csv` beside it."""
    aedat = Path(aedat)
    return aedat.with_name(f"{aedat.stem}_labels.csv")


def read_labels(aedat: str | PathLike[str], n_classes: int = len(DVSGESTURE_CLASSES)) -> list[Segment]:
    """The segments of one recording from its labels CSV; EventFileError on any bad line."""
    aedat = Path(aedat)
    path = labels_path(aedat)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise EventFileError(path, f"labels file of {aedat.name} not found") from None
    except OSError as err:
        raise EventFileError(path, f"cannot read: {err.strerror or err}") from None
    segments: list[Segment] = []
    pos = 0
    for number, raw in enumerate(data.splitlines(keepends=True)):
        row, line = pos, raw.strip()
        pos += len(raw)
        if number == 0:
            if line.decode("utf-8", "replace").replace(" ", "") != LABELS_HEADER:
                raise EventFileError(path, f"header is {line[:60]!r}, expected {LABELS_HEADER!r}", offset=0)
            continue
        if not line:
            continue
        fields = line.split(b",")
        try:
            label, start, end = (int(f) for f in fields) if len(fields) == 3 else (None, 0, 0)
        except ValueError:
            label = None
        if label is None:
            raise EventFileError(path, f"line {number + 1}: unreadable row {line[:60]!r}", offset=row)
        if not 1 <= label <= n_classes:
            raise EventFileError(path, f"line {number + 1}: class {label} outside 1..{n_classes}", offset=row)
        if not 0 <= start < end:
            reason = f"line {number + 1}: segment {start}..{end} µs is empty or negative"
            raise EventFileError(path, reason, offset=row)
        segments.append(Segment(aedat, path, row, label - 1, start, end))
    if not segments:
        raise EventFileError(path, "no labelled segments")
    return segments


@lru_cache(maxsize=2)
def _decoded(path: str, size: int, mtime_ns: int, sensor_size: tuple[int, int, int]) -> AedatRecording:
    """A decoded recording, kept while its segments are read one after another."""
    recording = decode_aedat31(read_bytes(Path(path)), path, sensor_size)
    warn_skipped(recording)
    return recording


def read_recording(path: str | PathLike[str], sensor_size: tuple[int, int, int] = DVSGESTURE_SENSOR) -> AedatRecording:
    """Decode an AEDAT 3.1 recording (cached: the last two files read)."""
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise EventFileError(path, "no such file") from None
    except OSError as err:
        raise EventFileError(path, f"cannot read: {err.strerror or err}") from None
    return _decoded(str(path), st.st_size, st.st_mtime_ns, tuple(sensor_size))


def read_segment(segment: Segment, sensor_size: tuple[int, int, int] = DVSGESTURE_SENSOR) -> np.ndarray:
    """The events of one labelled segment (start ≤ t < end), checked against its recording."""
    events = read_recording(segment.aedat, sensor_size).events
    t = events["t"]
    where = f"segment {segment.start}..{segment.end} µs (class {segment.label + 1})"
    if len(t) == 0:
        raise EventFileError(segment.labels, f"{where}: recording {segment.aedat.name} holds no events", segment.row)
    if segment.start < t[0] or segment.end > t[-1] + 1:
        raise EventFileError(
            segment.labels,
            f"{where} lies outside recording {segment.aedat.name}, which spans {t[0]}..{t[-1]} µs",
            offset=segment.row,
        )
    a, b = np.searchsorted(t, [segment.start, segment.end], side="left")
    if a == b:
        raise EventFileError(segment.labels, f"{where} holds no events of {segment.aedat.name}", segment.row)
    return events[a:b].copy()


def find_root(data_dir: str | PathLike[str]) -> Path:
    """The folder holding the trial lists: `data_dir` itself or its `DvsGesture/` subfolder."""
    root = Path(data_dir).expanduser().resolve()
    for candidate in (root, root / "DvsGesture"):
        if all((candidate / name).is_file() for name in TRIALS.values()):
            return candidate
    if not root.is_dir():
        raise EventFileError(root, "dataset folder not found")
    lists = " and ".join(TRIALS.values())
    raise EventFileError(root, f"not a DvsGesture folder: expected {lists} (here or in DvsGesture/)")


def list_trials(root: str | PathLike[str], split: str) -> list[Path]:
    """The recordings named in `trials_to_<split>.txt`, in file order; each must exist."""
    if split not in TRIALS:
        raise ValueError(f"split must be one of {', '.join(TRIALS)}, got {split!r}")
    root = Path(root)
    path = root / TRIALS[split]
    try:
        data = path.read_bytes()
    except OSError as err:
        raise EventFileError(path, f"cannot read the trial list: {err.strerror or err}") from None
    recordings: list[Path] = []
    pos = 0
    for number, raw in enumerate(data.splitlines(keepends=True)):
        row, name = pos, raw.strip().decode("utf-8", "replace")
        pos += len(raw)
        if not name:
            continue
        aedat = root / name
        if "/" in name or "\\" in name or not name.endswith(".aedat") or not aedat.is_file():
            raise EventFileError(path, f"line {number + 1}: {name!r} is not an .aedat file in {root}", offset=row)
        recordings.append(aedat)
    if not recordings:
        raise EventFileError(path, "lists no recordings")
    return recordings


def list_segments(
    root: str | PathLike[str], split: str, n_classes: int = len(DVSGESTURE_CLASSES)
) -> list[tuple[Segment, int]]:
    """(segment, class index) of every labelled segment of every recording of a split."""
    return [(s, s.label) for aedat in list_trials(root, split) for s in read_labels(aedat, n_classes)]


def split_segments(
    root: str | PathLike[str], n_classes: int = len(DVSGESTURE_CLASSES)
) -> tuple[list[tuple[Segment, int]], list[tuple[Segment, int]]]:
    """Train and test samples by the published trial lists; a recording in both is an error."""
    root = Path(root)
    both = set(list_trials(root, "train")) & set(list_trials(root, "test"))
    if both:
        names = ", ".join(sorted(p.name for p in both)[:3])
        raise EventFileError(root / TRIALS["test"], f"recordings listed for both train and test: {names}")
    return list_segments(root, "train", n_classes), list_segments(root, "test", n_classes)


def dvsgesture_files(data_dir: str | None, seed: int, test_fraction: float):
    """DatasetSpec.files for `dvsgesture`: the published split (seed, test_fraction unused)."""
    if data_dir is None:
        raise ValueError("dataset 'dvsgesture' needs data_dir: the DvsGesture folder (with trials_to_train.txt)")
    return split_segments(find_root(data_dir), len(DVSGESTURE_CLASSES))
