"""Event files built byte by byte from the formats' specifications, never by the project's writers.

Shared by the reader tests and the fuzzer: each builder takes the intended events (or raw
fields, so that tests can build files the formats forbid: coordinates out of range,
time going backwards) and returns the bytes. Sources: N-MNIST (Orchard et al. 2015);
AEDAT 2.0 (jAER `AEFileInputStream`, DVS128 `RetinaExtractor`); AEDAT 3.1 (libcaer
`events/common.h`, `events/polarity.h`); AEDAT 4.0 (DV `ioheader.fbs`, `events.fbs`);
Prophesee DAT (`dat_events_tools.py`); SHD (Cramer et al. 2020: the HDF5 layout, the
container written by h5py, which is not the reader under test).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path

import lz4.frame
import numpy as np
import zstandard

# ---------------------------------------------------------------- N-MNIST


def nmnist_record(x: int, y: int, p: int, t: int) -> bytes:
    """One 40-bit N-MNIST event: x, y, then p (1 bit) and t (23 bits), big-endian."""
    return bytes([x & 0xFF, y & 0xFF, ((p & 1) << 7) | ((t >> 16) & 0x7F), (t >> 8) & 0xFF, t & 0xFF])


def nmnist(events: Iterable[tuple[int, int, int, int]]) -> bytes:
    """An N-MNIST .bin of (x, y, t, p) events."""
    return b"".join(nmnist_record(x, y, p, t) for x, y, t, p in events)


# ---------------------------------------------------------------- AEDAT 2.0 (jAER, DVS128)

AEDAT2_HEADER = (
    b"#!AER-DAT2.0\r\n"
    b"# This is a raw AE data file - do not edit\r\n"
    b"# Data format is int32 address, int32 timestamp (8 bytes total), repeated for each event\r\n"
    b"# Timestamps tick is 1 us\r\n"
    b"# created Mon Mar 14 10:05:53 CST 2016\r\n"
)


def dvs128_address(x: int, y: int, p: int) -> int:
    """A DVS128 address for event (x, y, p): column 127 − x in bits 1–7, row y in bits 8–14, bit 0 = OFF."""
    return (y << 8) | ((127 - x) << 1) | (1 - p)


def aedat2(words: Iterable[tuple[int, int]], header: bytes = AEDAT2_HEADER) -> bytes:
    """An AEDAT 2.0 file of (address, timestamp) pairs, both big-endian 32-bit."""
    return header + b"".join(struct.pack(">II", a & 0xFFFFFFFF, t & 0xFFFFFFFF) for a, t in words)


def aedat2_events(events: Iterable[tuple[int, int, int, int]]) -> bytes:
    """An AEDAT 2.0 DVS128 file of (x, y, t, p) events."""
    return aedat2((dvs128_address(x, y, p), t) for x, y, t, p in events)


# ---------------------------------------------------------------- AEDAT 3.1

AEDAT31_HEADER = b"#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n#Start-Time: 2017-01-01 12:00:00\r\n#!END-HEADER\r\n"


def polarity(x: int, y: int, p: int, ts: int, valid: int = 1) -> bytes:
    """One 8-byte polarity event: uint32 (x << 17 | y << 2 | p << 1 | valid), int32 timestamp."""
    return struct.pack("<Ii", ((x << 17) | (y << 2) | (p << 1) | valid) & 0xFFFFFFFF, ts)


def packet(events: list[bytes], etype: int = 1, size: int = 8, overflow: int = 0, **fields: int) -> bytes:
    """A 28-byte packet header (type, source, size, TS offset, TS overflow, capacity, number, valid) + events."""
    n = len(events)
    head = struct.pack(
        "<hhiiiiii",
        etype,
        1,
        size,
        fields.get("ts_offset", 4),
        overflow,
        fields.get("capacity", n),
        fields.get("number", n),
        fields.get("valid", n),
    )
    return head + b"".join(events)


def aedat31(events: Iterable[tuple[int, int, int, int]], per_packet: int = 40) -> bytes:
    """An AEDAT 3.1 file of (x, y, t, p) events (t < 2^31), `per_packet` events per packet."""
    records = [polarity(x, y, p, t) for x, y, t, p in events]
    return AEDAT31_HEADER + b"".join(packet(records[i : i + per_packet]) for i in range(0, len(records), per_packet))


# ---------------------------------------------------------------- AEDAT 4.0

def description(sizes: tuple[int, int] = (346, 260), streams: dict[int, str] | None = None) -> str:
    """The IOHeader's XML: stream 0 events of a sizes[0]×sizes[1] sensor, plus `streams` {id: type}."""
    nodes = [(0, "EVTS")] + sorted((streams or {}).items())
    body = "".join(
        f'<node name="{i}" path="/mainloop/Recorder/outInfo/{i}/">'
        '<attr key="compression" type="string">NONE</attr>'
        f'<attr key="typeIdentifier" type="string">{kind}</attr>'
        f'<node name="info" path="/mainloop/Recorder/outInfo/{i}/info/">'
        + (f'<attr key="sizeX" type="int">{sizes[0]}</attr><attr key="sizeY" type="int">{sizes[1]}</attr>' if kind == "EVTS" else "")
        + "</node></node>"
        for i, kind in nodes
    )
    return f'<dv version="2.0"><node name="outInfo" path="/mainloop/Recorder/outInfo/">{body}</node></dv>'


DESCRIPTION = description()


def ioheader(text: str, compression: int = 0) -> bytes:
    """IOHeader flatbuffer (table Ioheader {compression: int32; file_data_position: int64; description: string}).

    Layout: [0] uoffset → table at 20, [4] identifier "IOHE", [8] vtable (10 bytes:
    vtable size, table size, field offsets 4 / absent / 8), pad, [20] table: soffset to
    the vtable (20 − 8), compression, uoffset → string at 32, [32] string.
    file_data_position is absent: its default −1 means "no data table, read to the end".
    """
    data = text.encode()
    buf = struct.pack("<I", 20) + b"IOHE"
    buf += struct.pack("<HHHHH", 10, 12, 4, 0, 8) + b"\0\0"
    buf += struct.pack("<iiI", 20 - 8, compression, 32 - 28)
    buf += struct.pack("<I", len(data)) + data + b"\0"
    return buf + b"\0" * (-len(buf) % 4)


def event_packet(events: list[tuple[int, int, int, bool]]) -> bytes:
    """Size-prefixed EventPacket flatbuffer (table {elements: [Event]}, struct Event {t: int64; x, y: int16; on: bool}).

    Layout: [0] size prefix, [4] uoffset → table at 20, [8] identifier "EVTS", [12]
    vtable (6 bytes: vtable size, table size 8, field 0 at 4), pad, [20] table: soffset
    20 − 12, uoffset → vector at 28, [28] vector length, [32] structs of 16 bytes (8-aligned).
    """
    body = struct.pack("<I", 20 - 4) + b"EVTS" + struct.pack("<HHH", 6, 8, 4) + b"\0\0"
    body += struct.pack("<iI", 20 - 12, 28 - 24) + struct.pack("<I", len(events))
    body += b"".join(struct.pack("<qhh?3x", t, x, y, on) for t, x, y, on in events)
    return struct.pack("<I", len(body)) + body


def compress(data: bytes, compression: int) -> bytes:
    """A packet as DV stores it: raw (0), an LZ4 frame (1, 2) or a Zstd frame (3, 4)."""
    if compression in (1, 2):
        return lz4.frame.compress(data)
    if compression in (3, 4):
        return zstandard.ZstdCompressor().compress(data)
    return data


def aedat4(
    *packets: list[tuple[int, int, int, bool]], description: str = DESCRIPTION, compression: int = 0, stream: int = 0
) -> bytes:
    """#!AER-DAT4.0, IOHeader (int32 size + flatbuffer), packets (int32 stream id, int32 size, flatbuffer)."""
    head = ioheader(description, compression)
    data = b"#!AER-DAT4.0\r\n" + struct.pack("<I", len(head)) + head
    for events in packets:
        body = compress(event_packet(events), compression)
        data += struct.pack("<iI", stream, len(body)) + body
    return data


T0 = 1_700_000_000_000_000  # DV timestamps are Unix time in µs

# ---------------------------------------------------------------- Prophesee DAT (N-Cars)

DAT_HEADER = (b"% Data file containing Event2D events.\n", b"% Version 2\n", b"% Date 2016-08-16 10:55:26\n")


def dat(events: Iterable[tuple[int, int, int, int]], etype: int = 0, size: int = 8, header: Iterable[bytes] = DAT_HEADER) -> bytes:
    """A Prophesee DAT file of (x, y, t, p): header lines, type and size bytes, uint32 t and x | y << 14 | p << 28."""
    body = b"".join(struct.pack("<II", t & 0xFFFFFFFF, (x | (y << 14) | (p << 28)) & 0xFFFFFFFF) for x, y, t, p in events)
    return b"".join(header) + bytes([etype, size]) + body


# ---------------------------------------------------------------- SHD (HDF5)

SHD_KEYS = [
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    *("null", "eins", "zwei", "drei", "vier", "fuenf", "sechs", "sieben", "acht", "neun"),
]


def shd(
    path: Path,
    samples: list[tuple[list[float], list[int], int]],
    times_dtype: str = "float16",
    units_dtype: str = "uint16",
    **dataset_options,
) -> Path:
    """An SHD file of (times in s, channels, label) samples: spikes/times, spikes/units, labels, extra/."""
    import h5py

    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        n = len(samples)
        times = f.create_dataset("spikes/times", (n,), dtype=h5py.vlen_dtype(np.dtype(times_dtype)), **dataset_options)
        units = f.create_dataset("spikes/units", (n,), dtype=h5py.vlen_dtype(np.dtype(units_dtype)), **dataset_options)
        for i, (t, u, _) in enumerate(samples):
            times[i] = np.asarray(t, dtype=times_dtype)
            units[i] = np.asarray(u, dtype=units_dtype)
        f.create_dataset("labels", data=np.array([label for _, _, label in samples], dtype=np.uint16))
        f.create_dataset("extra/keys", data=np.array([k.encode() for k in SHD_KEYS]))
        f.create_dataset("extra/speaker", data=np.zeros(n, dtype=np.uint16))
    return path
