"""Spiking Heidelberg Digits (Cramer et al. 2020): spoken digits as spikes of 700 cochlear channels.

    <data-dir>/shd_train.h5, <data-dir>/shd_test.h5   (published as .h5.gz: gunzip them)
        spikes/times   one variable-length float array per sample: spike times (s)
        spikes/units   one variable-length integer array per sample: channels 0..699
        labels         one integer per sample: 0..9 English, 10..19 German digits
        extra/…        speakers, keys, meta_info (not used)

A sample is (file, index) — `ShdSample`, path-like — and its events are x = channel,
y = 0, p = 0, t = round(time · 10^6) µs, for the 1-D sensor (700, 1, 1). The spikes of
a sample are a set: they are returned sorted by time (stably). h5py reads the container;
before it reads a variable-length element, that element's declared length is read from
the raw descriptors and checked against the file's size, since HDF5 allocates whatever a
descriptor declares (a flipped bit would otherwise ask for gigabytes). Every other
declared size (sample count, label array) is checked the same way before reading.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from functools import lru_cache
from os import PathLike
from pathlib import Path

import h5py
import numpy as np

from snn2fpga.core.events import EventFileError, make_events
from snn2fpga.train.data.sniff import HEAD_BYTES, expect_format

SHD_SENSOR: tuple[int, int, int] = (700, 1, 1)
SHD_CLASSES: list[str] = [
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    *("null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"),
]
SHD_POOL = 1  # the 700 channels as they are
FILES = {"train": "shd_train.h5", "test": "shd_test.h5"}
MAX_SECONDS = 2**62 / 1e6  # spike times beyond this do not fit int64 µs
H5_ERRORS = (OSError, KeyError, ValueError, RuntimeError, TypeError, zlib.error)  # what a damaged file raises


@dataclass(frozen=True)
class ShdSample:
    """One sample: file and index. Path-like (os.fspath gives the file, for the binned cache's key)."""

    path: Path
    index: int

    def __fspath__(self) -> str:
        return str(self.path)

    def __str__(self) -> str:
        return f"{self.path}#{self.index}"


def _raw(path: Path, offset: int, count: int, size: int) -> bytes:
    """`count` bytes of the file at `offset`, which must lie inside its `size` bytes."""
    if offset < 0 or offset + count > size:
        raise EventFileError(path, f"HDF5 data of {count} bytes at byte {offset} runs past the file's {size} bytes")
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(count)


def _vlen_lengths(ds, path: Path, size: int, item: int) -> np.ndarray:
    """The sequence length each element of a 1-D variable-length dataset declares (raw descriptors).

    A descriptor is uint32 length + global heap id (`item` bytes in all). Contiguous and
    chunked (unfiltered or deflate) layouts are read; HDF5's compact layout holds at most
    64 KiB, too little for a dataset of this kind, and is refused.
    """
    n = ds.shape[0]
    plist = ds.id.get_create_plist()
    layout = plist.get_layout()
    descriptor = np.dtype([("length", "<u4"), ("heap", f"V{item - 4}")])
    if layout == h5py.h5d.CONTIGUOUS:
        offset = ds.id.get_offset()
        if offset is None:  # never written: every sequence is empty
            return np.zeros(n, np.int64)
        return np.frombuffer(_raw(path, offset, n * item, size), descriptor)["length"].astype(np.int64)
    if layout != h5py.h5d.CHUNKED:
        raise EventFileError(path, f"{ds.name} has HDF5 layout {layout}: contiguous or chunked expected")
    filters = {plist.get_filter(i)[0] for i in range(plist.get_nfilters())}
    if filters - {h5py.h5z.FILTER_DEFLATE}:
        raise EventFileError(path, f"{ds.name} uses HDF5 filters {sorted(filters)}: only deflate is read")
    lengths = np.zeros(n, np.int64)
    rows = ds.chunks[0]
    for k in range(ds.id.get_num_chunks()):
        info = ds.id.get_chunk_info(k)
        start = info.chunk_offset[0]
        count = min(rows, n - start) if 0 <= start < n else 0
        if info.size > size:
            raise EventFileError(path, f"{ds.name}: chunk at row {start} declares {info.size} bytes, more than the file")
        mask, blob = ds.id.read_direct_chunk((start,))
        if filters and not mask & 1:
            blob = zlib.decompressobj().decompress(blob, count * item)
        if count == 0 or len(blob) < count * item:
            raise EventFileError(path, f"{ds.name}: chunk at row {start} holds {len(blob)} bytes, {count * item} expected")
        lengths[start : start + count] = np.frombuffer(blob, descriptor, count=count)["length"]
    return lengths


class ShdFile:
    """An SHD file whose structure and declared sizes have been checked; `events(i)` reads sample i."""

    def __init__(self, path: str | PathLike[str]) -> None:
        self.path = path = Path(path)
        try:
            size = os.stat(path).st_size
            with open(path, "rb") as f:
                head = f.read(HEAD_BYTES)
        except FileNotFoundError:
            raise EventFileError(path, "no such file") from None
        except OSError as err:
            raise EventFileError(path, f"cannot read: {err.strerror or err}") from None
        expect_format(head, path, "HDF5", "an SHD (HDF5)")
        try:
            self.h5 = h5py.File(path, "r")
            found = {name: self.h5.get(name) for name in ("spikes/times", "spikes/units", "labels")}
            if any(not isinstance(d, h5py.Dataset) for d in found.values()):
                missing = [k for k, d in found.items() if not isinstance(d, h5py.Dataset)]
                raise EventFileError(path, f"not an SHD file: no dataset {', '.join(missing)} (found {sorted(self.h5)})")
            self.times, self.units, labels = found.values()
            if labels.ndim != 1 or labels.dtype.kind not in "iu" or labels.size * labels.dtype.itemsize > size:
                raise EventFileError(path, f"labels are {labels.dtype} {labels.shape}: expected one integer per sample")
            n = labels.shape[0]
            for d, kind in ((self.times, "f"), (self.units, "iu")):
                base = h5py.check_vlen_dtype(d.dtype)
                if d.shape != (n,) or base is None or base.kind not in kind:
                    raise EventFileError(
                        path, f"{d.name} is {d.dtype} {d.shape}: expected {n} variable-length {kind!r} arrays, one per label"
                    )
            item = 8 + self.h5.id.get_create_plist().get_sizes()[0]  # uint32 length + heap address + uint32 index
            if n * item > size:
                raise EventFileError(path, f"{n} samples declared, more than the file's {size} bytes can describe")
            self.labels = labels[()].astype(np.int64)
            self.lengths = [_vlen_lengths(d, path, size, item) for d in (self.times, self.units)]
        except EventFileError:
            raise
        except H5_ERRORS as err:
            raise EventFileError(path, f"HDF5: {err}") from None
        itemsizes = [h5py.check_vlen_dtype(d.dtype).itemsize for d in (self.times, self.units)]
        for lengths, itemsize, d in zip(self.lengths, itemsizes, (self.times, self.units)):
            big = np.flatnonzero(lengths * itemsize > size)
            if big.size:
                i = int(big[0])
                raise EventFileError(path, f"sample {i}: {d.name} declares {lengths[i]} values, more than the file holds")
        bad = np.flatnonzero((self.labels < 0) | (self.labels >= len(SHD_CLASSES)))
        if bad.size:
            i = int(bad[0])
            raise EventFileError(path, f"sample {i} has label {self.labels[i]}, outside 0..{len(SHD_CLASSES) - 1}")

    def __len__(self) -> int:
        return len(self.labels)

    def events(self, i: int) -> np.ndarray:
        """Sample i's spikes as EVENT_DTYPE events, sorted by time; EventFileError if they are not spikes."""
        where = f"sample {i}"
        if self.lengths[0][i] != self.lengths[1][i]:
            raise EventFileError(self.path, f"{where} has {self.lengths[0][i]} times but {self.lengths[1][i]} units")
        if self.lengths[0][i] == 0:
            raise EventFileError(self.path, f"{where} holds no spikes")
        try:
            seconds = np.asarray(self.times[i], dtype=np.float64)
            units = np.asarray(self.units[i]).astype(np.int64)
        except H5_ERRORS as err:
            raise EventFileError(self.path, f"{where}: HDF5: {err}") from None
        if len(seconds) != len(units):  # the heap held other lengths than the descriptors declared
            raise EventFileError(self.path, f"{where} has {len(seconds)} times but {len(units)} units")
        bad = np.flatnonzero(~((seconds >= 0) & (seconds < MAX_SECONDS)))  # NaN too
        if bad.size:
            j = int(bad[0])
            raise EventFileError(self.path, f"{where}: spike {j} at {seconds[j]} s, not a time ≥ 0")
        bad = np.flatnonzero((units < 0) | (units >= SHD_SENSOR[0]))
        if bad.size:
            j = int(bad[0])
            raise EventFileError(self.path, f"{where}: spike {j} on channel {units[j]}, outside 0..{SHD_SENSOR[0] - 1}")
        t = np.rint(seconds * 1e6).astype(np.int64)
        order = np.argsort(t, kind="stable")
        zero = np.zeros(len(t), np.int64)
        return make_events(units[order], zero, t[order], zero)


@lru_cache(maxsize=2)
def _open(path: str, size: int, mtime_ns: int) -> ShdFile:
    """A checked SHD file, kept open while its samples are read one after another."""
    return ShdFile(path)


def open_shd(path: str | PathLike[str]) -> ShdFile:
    """The checked SHD file at `path` (cached: the last two files, by path, size and mtime)."""
    try:
        st = os.stat(path)
    except OSError as err:
        raise EventFileError(path, "no such file" if isinstance(err, FileNotFoundError) else f"cannot read: {err}") from None
    return _open(str(path), st.st_size, st.st_mtime_ns)


def read_shd_sample(sample: ShdSample) -> np.ndarray:
    """The events of one SHD sample (DatasetSpec.read)."""
    return open_shd(sample.path).events(sample.index)


def shd_files(data_dir: str | None, seed: int, test_fraction: float):
    """DatasetSpec.files for `shd`: the published train and test files (seed, test_fraction unused)."""
    if data_dir is None:
        raise ValueError("dataset 'shd' needs data_dir: the folder holding shd_train.h5 and shd_test.h5")
    root = Path(data_dir).expanduser().resolve()
    if not root.is_dir():
        raise EventFileError(root, "dataset folder not found")
    if not all((root / name).is_file() for name in FILES.values()):
        found = ", ".join(sorted(p.name for p in root.iterdir())[:8]) or "nothing"
        raise EventFileError(
            root, f"not an SHD folder: expected {' and '.join(FILES.values())} (gunzip the published .h5.gz); found {found}"
        )
    splits = []
    for name in FILES.values():
        shd = open_shd(root / name)
        splits.append([(ShdSample(root / name, i), int(label)) for i, label in enumerate(shd.labels)])
    return splits[0], splits[1]
