"""AEDAT 2.0 files of a DVS128 (jAER): the format of the published CIFAR10-DVS recordings.

Format (jAER `AEFileInputStream`, DVS128 `RetinaExtractor`): ASCII header lines starting
with '#', the first `#!AER-DAT2.0`; then 8-byte events, both fields big-endian: int32
address and int32 timestamp (µs). DVS128 address: bit 0 polarity (1 = OFF), bits 1–7
column, bits 8–14 row; higher bits set mean an event of another kind (external input,
another chip), which this reader refuses. Events follow jAER's own convention:
x = 127 − column, y = row, p = 1 − bit 0 (1 = ON). (SpikingJelly additionally
transposes CIFAR10-DVS to x = 127 − row, y = 127 − x; a classifier is indifferent.)
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import numpy as np

from snn2fpga.core.events import EventFileError, make_events
from snn2fpga.train.data.sniff import HEAD_BYTES, check_event_body, expect_format, text_header_end

DVS128_SIDE = 128
EVENT_SIZE = 8
ADDRESS_BITS = 15  # polarity, 7-bit column, 7-bit row


def _header_end(data: bytes, path: Path) -> int:
    """Offset just past the '#' header lines (where the first event is)."""
    expect_format(data[:HEAD_BYTES], path, "AEDAT 2.0", "an AEDAT 2.0")
    return text_header_end(data, path, b"#")


def decode_aedat2(data: bytes, path: str | PathLike[str] = "<bytes>") -> np.ndarray:
    """Decode the bytes of a DVS128 AEDAT 2.0 file into EVENT_DTYPE events (128×128 sensor)."""
    path = Path(path)
    pos = _header_end(data, path)
    check_event_body(data, pos, EVENT_SIZE, path)
    raw = np.frombuffer(data, ">u4", offset=pos).astype(np.int64)
    address, t = raw[0::2], raw[1::2]
    bad = np.flatnonzero(address >> ADDRESS_BITS)
    if bad.size:
        i = int(bad[0])
        raise EventFileError(
            path,
            f"event {i} has address {address[i]:#010x}: bits above 14 set, not a DVS128 polarity event",
            offset=pos + EVENT_SIZE * i,
        )
    bad = np.flatnonzero((t >> 31) | (np.diff(t, prepend=t[:1]) < 0))  # int32 times: bit 31 is the sign
    if bad.size:
        i = int(bad[0])
        what = f"is negative (int32 {t[i] - 2**32})" if t[i] >> 31 else f"goes back from {t[i - 1]} to {t[i]} µs"
        raise EventFileError(path, f"timestamp of event {i} {what}", offset=pos + EVENT_SIZE * i)
    x = DVS128_SIDE - 1 - ((address >> 1) & 0x7F)
    y = (address >> 8) & 0x7F
    return make_events(x, y, t, 1 - (address & 1))
