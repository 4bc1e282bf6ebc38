"""AEDAT event files: a 3.1 reader and writer (DVS128 Gesture, cAER) and a 4.0 reader (DV cameras).

AEDAT 3.1 (iniVation, libcaer `events/common.h`, `events/polarity.h`): ASCII header lines
starting with `#`, the first `#!AER-DAT3.1\\r\\n`, the last `#!END-HEADER\\r\\n`; then
packets, each a 28-byte little-endian header

    int16 eventType, int16 eventSource, int32 eventSize, int32 eventTSOffset,
    int32 eventTSOverflow, int32 eventCapacity, int32 eventNumber, int32 eventValid

followed by eventNumber events of eventSize bytes (in files a packet is stored full:
eventCapacity = eventNumber). A polarity event (type 1) is 8 bytes: uint32 data (bit 0
valid mark, bit 1 polarity, bits 2–16 y, bits 17–31 x) and int32 timestamp (µs, 31
bits); eventTSOverflow supplies the high bits, t = overflow · 2^31 + timestamp.

Events of other types are skipped and counted (one warning per file); events whose valid
mark is clear are skipped (they were invalidated by a filter before writing). Everything
else that does not fit the format — header, truncation, coordinates outside the sensor,
time going backwards — raises EventFileError with the file and byte offset.

AEDAT 4.0 is decoded by `train.data.aedat4` (flatbuffers, LZ4/Zstd, every offset
checked); the sensor size is read from the file's stream description.
"""

from __future__ import annotations

import struct
import warnings
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import numpy as np

from snn2fpga.core.files import write_bytes
from snn2fpga.core.events import EventFileError, make_events, read_bytes
from snn2fpga.train.data.aedat4 import decode_aedat4
from snn2fpga.train.data.sniff import HEAD_BYTES, expect_format, sniff_format

DVS128_SENSOR: tuple[int, int, int] = (128, 128, 2)  # (W, H, polarities)

END_HEADER = b"#!END-HEADER\r\n"
PACKET_HEADER = struct.Struct("<hhiiiiii")  # 28 bytes
POLARITY_EVENT = 1
POLARITY_SIZE = 8
POLARITY_TS_OFFSET = 4
COORD_MAX = 0x7FFF  # 15-bit x and y addresses
TS_OVERFLOW_SHIFT = 31
PACKET_EVENTS = 4096  # events per packet the writer emits


class AedatWarning(UserWarning):
    """Something in an AEDAT file was skipped (unknown event types, invalidated events)."""


@dataclass
class AedatRecording:
    """One decoded file: its polarity events (EVENT_DTYPE, time-sorted) and what was skipped."""

    path: Path
    events: np.ndarray
    sensor_size: tuple[int, int, int]
    skipped: dict[int, int] = field(default_factory=dict)  # event type → events skipped
    invalid: int = 0  # polarity events skipped because their valid mark is clear


def _header_end(data: bytes, path: Path) -> int:
    """Check the 3.1 text header; return the byte offset where the packets begin."""
    expect_format(data[:HEAD_BYTES], path, "AEDAT 3.1", "an AEDAT 3.1")
    pos = 0
    while True:
        if data[pos : pos + 1] != b"#":
            raise EventFileError(
                path, "header ends without #!END-HEADER (a line not starting with '#')", offset=pos
            )
        eol = data.find(b"\n", pos)
        if eol < 0:
            raise EventFileError(path, "header line never ends: no #!END-HEADER before the end of file", offset=pos)
        if data[pos : eol + 1] == END_HEADER:
            return eol + 1
        pos = eol + 1


def decode_aedat31(
    data: bytes, path: str | PathLike[str] = "<bytes>", sensor_size: tuple[int, int, int] = DVS128_SENSOR
) -> AedatRecording:
    """Decode the bytes of an AEDAT 3.1 file (see the module docstring); no warnings."""
    path = Path(path)
    pos = _header_end(data, path)
    starts: list[int] = []  # byte offset of each polarity packet's first event
    counts: list[int] = []
    overflows: list[int] = []
    skipped: dict[int, int] = {}
    size = len(data)
    while pos < size:
        if size - pos < PACKET_HEADER.size:
            raise EventFileError(
                path,
                f"truncated packet: {size - pos} bytes left, a packet header takes {PACKET_HEADER.size}",
                offset=pos,
            )
        etype, _source, esize, ts_offset, overflow, capacity, number, valid = PACKET_HEADER.unpack_from(data, pos)
        if esize <= 0 or number < 0 or overflow < 0 or not 0 <= valid <= number:
            raise EventFileError(
                path,
                f"corrupt packet header: eventSize {esize}, eventNumber {number}, eventValid {valid}, "
                f"eventTSOverflow {overflow}",
                offset=pos,
            )
        if capacity != number:
            raise EventFileError(
                path,
                f"packet eventCapacity {capacity} != eventNumber {number} (a file stores packets full)",
                offset=pos,
            )
        body = pos + PACKET_HEADER.size
        end = body + number * esize
        if end > size:
            raise EventFileError(
                path,
                f"truncated packet: header announces {number} events of {esize} bytes, "
                f"the file ends {size - body} bytes after the header",
                offset=pos,
            )
        if etype == POLARITY_EVENT:
            if esize != POLARITY_SIZE or ts_offset != POLARITY_TS_OFFSET:
                raise EventFileError(
                    path,
                    f"polarity packet with eventSize {esize}, eventTSOffset {ts_offset} "
                    f"(the format has {POLARITY_SIZE} and {POLARITY_TS_OFFSET})",
                    offset=pos,
                )
            if number:
                starts.append(body)
                counts.append(number)
                overflows.append(overflow)
        elif number:
            skipped[etype] = skipped.get(etype, 0) + number
        pos = end
    return _polarity_events(data, path, sensor_size, starts, counts, overflows, skipped)


def _polarity_events(
    data: bytes,
    path: Path,
    sensor_size: tuple[int, int, int],
    starts: list[int],
    counts: list[int],
    overflows: list[int],
    skipped: dict[int, int],
) -> AedatRecording:
    """Decode the polarity packets found by `decode_aedat31`; check coordinates and time order."""
    if starts:
        raw = np.concatenate([np.frombuffer(data, "<u4", count=2 * n, offset=s) for s, n in zip(starts, counts)])
        word = raw[0::2].astype(np.int64)
        ts = raw[1::2].view("<i4").astype(np.int64)
    else:
        word = ts = np.zeros(0, dtype=np.int64)
    count = np.asarray(counts, dtype=np.int64)
    first = np.cumsum(count) - count  # index of each packet's first event

    def offset(i: int) -> int:
        k = int(np.searchsorted(first, i, side="right")) - 1
        return starts[k] + POLARITY_SIZE * (i - int(first[k]))

    keep = np.flatnonzero(word & 1)
    negative = keep[ts[keep] < 0]
    if negative.size:
        i = int(negative[0])
        raise EventFileError(path, f"event timestamp {ts[i]} is negative (31-bit field)", offset=offset(i))
    t = (np.repeat(np.asarray(overflows, dtype=np.int64), count) << TS_OVERFLOW_SHIFT) | ts
    x = (word >> 17) & COORD_MAX
    y = (word >> 2) & COORD_MAX
    p = (word >> 1) & 1
    width, height = sensor_size[0], sensor_size[1]
    outside = keep[(x[keep] >= width) | (y[keep] >= height)]
    if outside.size:
        i = int(outside[0])
        raise EventFileError(
            path,
            f"event at (x={x[i]}, y={y[i]}) is outside the {width}x{height} sensor ({outside.size} such events)",
            offset=offset(i),
        )
    back = np.flatnonzero(np.diff(t[keep]) < 0)
    if back.size:
        i, j = int(keep[back[0]]), int(keep[back[0] + 1])
        raise EventFileError(path, f"timestamp goes back from {t[i]} to {t[j]} µs", offset=offset(j))
    events = make_events(x[keep], y[keep], t[keep], p[keep])
    return AedatRecording(path, events, tuple(sensor_size), skipped, int(len(word) - len(keep)))


def warn_skipped(recording: AedatRecording) -> None:
    """One AedatWarning naming the file and how many events were skipped, if any were."""
    parts = [f"{n} events of type {t}" for t, n in sorted(recording.skipped.items())]
    if recording.invalid:
        parts.append(f"{recording.invalid} polarity events marked invalid")
    if parts:
        warnings.warn(f"{recording.path}: skipped {', '.join(parts)}", AedatWarning, stacklevel=3)


def read_aedat31(path: str | PathLike[str], sensor_size: tuple[int, int, int] = DVS128_SENSOR) -> AedatRecording:
    """Read an AEDAT 3.1 file; warns once (AedatWarning) if events were skipped."""
    path = Path(path)
    recording = decode_aedat31(read_bytes(path), path, sensor_size)
    warn_skipped(recording)
    return recording


def read_aedat4(path: str | PathLike[str]) -> AedatRecording:
    """Read the first event stream of an AEDAT 4.0 file (DV software); sensor size from the file."""
    path = Path(path)
    events, sensor_size = decode_aedat4(read_bytes(path), path)
    return AedatRecording(path, events, sensor_size)


def read_aedat(path: str | PathLike[str], sensor_size: tuple[int, int, int] = DVS128_SENSOR) -> AedatRecording:
    """Read an AEDAT 3.1 or 4.0 file, choosing by its first line (`sensor_size` applies to 3.1)."""
    path = Path(path)
    data = read_bytes(path)
    if sniff_format(data[:HEAD_BYTES]) == "AEDAT 4.0":
        events, sensor_size = decode_aedat4(data, path)
        return AedatRecording(path, events, sensor_size)
    recording = decode_aedat31(data, path, sensor_size)
    warn_skipped(recording)
    return recording


def encode_aedat31(
    events: np.ndarray,
    source: str = "DVS128",
    comments: tuple[str, ...] = (),
    packet_events: int = PACKET_EVENTS,
) -> bytes:
    """AEDAT 3.1 bytes of time-sorted events: header, then polarity packets (source id 1)."""
    if events.dtype.names is None or not set("xytp") <= set(events.dtype.names):
        raise ValueError(f"events need fields x, y, t, p; got dtype {events.dtype}")
    if packet_events < 1:
        raise ValueError(f"packet_events must be ≥ 1, got {packet_events}")
    x, y, t, p = (np.asarray(events[f], dtype=np.int64) for f in "xytp")
    for name, values, top in (("x", x, COORD_MAX), ("y", y, COORD_MAX), ("p", p, 1), ("t", t, 2**62)):
        if values.size and (values.min() < 0 or values.max() > top):
            raise ValueError(f"event field {name} spans {values.min()}..{values.max()}, outside 0..{top}")
    if np.any(np.diff(t) < 0):
        raise ValueError("events must be sorted by timestamp")
    lines = ["#!AER-DAT3.1", "#Format: RAW", f"#Source 1: {source}", *(f"#{c}" for c in comments), "#!END-HEADER"]
    for line in lines:
        if "\n" in line or "\r" in line:
            raise ValueError(f"header line {line!r} contains a line break")
    out = [("\r\n".join(lines) + "\r\n").encode("ascii")]
    words = np.empty((len(t), 2), dtype="<u4")
    words[:, 0] = (x << 17) | (y << 2) | (p << 1) | 1
    words[:, 1] = t & (2**TS_OVERFLOW_SHIFT - 1)
    high = t >> TS_OVERFLOW_SHIFT
    cuts = np.flatnonzero(np.diff(high)) + 1  # a packet never spans two overflow values
    bounds = sorted(set(range(0, len(t), packet_events)) | set(cuts.tolist()) | {len(t)})
    for a, b in zip(bounds[:-1], bounds[1:]):
        n = b - a
        out.append(
            PACKET_HEADER.pack(POLARITY_EVENT, 1, POLARITY_SIZE, POLARITY_TS_OFFSET, int(high[a]), n, n, n)
        )
        out.append(words[a:b].tobytes())
    return b"".join(out)


def write_aedat31(path: str | PathLike[str], events: np.ndarray, **kwargs) -> None:
    """Write events as an AEDAT 3.1 file atomically (temporary name, then rename)."""
    path = Path(path)
    try:
        data = encode_aedat31(events, **kwargs)
    except ValueError as err:
        raise EventFileError(path, f"cannot encode: {err}") from None
    write_bytes(path, data)


__all__ = [
    "AedatRecording",
    "AedatWarning",
    "DVS128_SENSOR",
    "decode_aedat31",
    "encode_aedat31",
    "read_aedat",
    "read_aedat31",
    "read_aedat4",
    "write_aedat31",
]
