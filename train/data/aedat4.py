"""AEDAT 4.0 (iniVation DV) decoded by hand with every offset checked, so a damaged file is an error.

Layout (DV documentation "AEDAT 4.0", flatbuffers schemas `ioheader.fbs`, `events.fbs`):

    #!AER-DAT4.0\\r\\n
    int32 n, then an IOHeader flatbuffer of n bytes (identifier "IOHE"):
        table { compression: int32 = 0 (0 none, 1 LZ4, 2 LZ4 high, 3 Zstd, 4 Zstd high);
                dataTablePosition: int64 = -1; infoNode: string }
    packets up to dataTablePosition (-1: to the end of the file), each
        int32 stream id, int32 size, then size bytes: a size-prefixed flatbuffer,
        compressed as the IOHeader says. An event stream's packets (typeIdentifier EVTS)
        hold table EventPacket { elements: [Event] },
        struct Event { t: int64 (µs); x: int16; y: int16; on: bool } (16 bytes, padded).

infoNode is XML naming each stream (`outInfo/<id>`) with its typeIdentifier and, for
events, `info/sizeX` and `info/sizeY`. The `aedat` package decodes the same files, but
panics or aborts the process on some damaged ones and allocates whatever a packet
declares; here every size and flatbuffer offset is checked against the bytes present
before it is used, and a compressed packet may expand at most MAX_EXPANSION times.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import NoReturn
from xml.etree import ElementTree

import lz4.frame
import numpy as np
import zstandard

from snn2fpga.core.events import EventFileError, make_events
from snn2fpga.train.data.sniff import HEAD_BYTES, expect_format

MAGIC = b"#!AER-DAT4.0\r\n"
EVENT = np.dtype([("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("on", "u1"), ("pad", "V3")])
LZ4, ZSTD = (1, 2), (3, 4)  # CompressionType values (plain and "high" levels decode alike)
MAX_EXPANSION = 256  # LZ4's own limit is 255; a packet expanding more is refused
CHUNK = 1 << 16  # decompression output is taken in pieces of this size, so memory tracks real output


@dataclass(frozen=True)
class _Flatbuffer:
    """Bounds-checked reads of one flatbuffer; errors name the file and `offset`, where it lies."""

    data: bytes
    path: Path
    offset: int
    what: str

    def fail(self, reason: str) -> NoReturn:
        raise EventFileError(self.path, f"{self.what}: {reason}", offset=self.offset)

    def unpack(self, fmt: str, pos: int) -> tuple:
        if not 0 <= pos <= len(self.data) - struct.calcsize(fmt):
            self.fail(f"flatbuffer offset {pos} lies outside its {len(self.data)} bytes")
        return struct.unpack_from(fmt, self.data, pos)

    def root(self, identifier: bytes) -> int:
        """The root table's position, after checking the 4-byte file identifier."""
        (pos,) = self.unpack("<I", 0)
        if self.data[4:8] != identifier:
            self.fail(f"file identifier {self.data[4:8]!r}, expected {identifier!r}")
        return pos

    def field(self, table: int, index: int) -> int | None:
        """Position of field `index` of the table at `table`, or None if absent (default value)."""
        (back,) = self.unpack("<i", table)
        vtable = table - back
        size, table_size = self.unpack("<HH", vtable)
        if size < 4 or size % 2:
            self.fail(f"vtable of {size} bytes")
        if 4 + 2 * index >= size:
            return None
        (off,) = self.unpack("<H", vtable + 4 + 2 * index)
        if off >= table_size and off:
            self.fail(f"field {index} at {off} lies beyond its {table_size}-byte table")
        return table + off if off else None

    def scalar(self, table: int, index: int, fmt: str, default: int) -> int:
        pos = self.field(table, index)
        return default if pos is None else self.unpack(fmt, pos)[0]

    def vector(self, table: int, index: int, item: int) -> tuple[int, int]:
        """(position of the first element, length) of a vector field; (0, 0) if absent."""
        pos = self.field(table, index)
        if pos is None:
            return 0, 0
        start = pos + self.unpack("<I", pos)[0]
        (n,) = self.unpack("<I", start)
        if n * item > len(self.data) - start - 4:
            self.fail(f"vector of {n} × {item} bytes runs past the end of its {len(self.data)} bytes")
        return start + 4, n


def _streams(info: bytes, path: Path, offset: int) -> dict[int, tuple[str, int, int]]:
    """{stream id: (typeIdentifier, sizeX, sizeY)} from the IOHeader's XML (sizes 0 if not events)."""
    try:
        out = ElementTree.fromstring(info).find("node[@name='outInfo']")
    except ElementTree.ParseError as err:
        raise EventFileError(path, f"IOHeader stream description is not XML: {err}", offset=offset) from None
    if out is None:
        raise EventFileError(path, "IOHeader stream description has no outInfo node", offset=offset)
    streams: dict[int, tuple[str, int, int]] = {}
    for node in out.findall("node"):
        kind = node.findtext("attr[@key='typeIdentifier']")
        sid = _number(node.get("name"))
        if sid is None or kind is None:
            raise EventFileError(path, f"stream {node.get('name')!r} has no numeric id or no typeIdentifier", offset=offset)
        sizes = [_number(node.findtext(f"node[@name='info']/attr[@key='{k}']")) for k in ("sizeX", "sizeY")]
        if kind == "EVTS" and not all(s is not None and 0 < s <= 32768 for s in sizes):
            raise EventFileError(path, f"event stream {sid} has sensor size {sizes}, expected 1..32768", offset=offset)
        streams[sid] = (kind, *sizes) if kind == "EVTS" else (kind, 0, 0)
    return streams


def _number(text: str | None) -> int | None:
    """A decimal number of at most 9 ASCII digits (surrounding blanks allowed), else None."""
    match = re.fullmatch(r"\s*(\d{1,9})\s*", text or "", re.ASCII)
    return int(match.group(1)) if match else None


def _decompress(raw: bytes, compression: int, path: Path, offset: int) -> bytes:
    """A packet's bytes decompressed (LZ4 or Zstd frame), at most MAX_EXPANSION × its size."""
    cap = MAX_EXPANSION * len(raw)
    pieces: list[bytes] = []
    total = 0
    try:
        if compression in LZ4:
            lz = lz4.frame.LZ4FrameDecompressor()
            piece = lz.decompress(raw, max_length=CHUNK)
            while True:
                pieces.append(piece)
                total += len(piece)
                if lz.eof or total > cap or not piece:
                    break
                piece = lz.decompress(b"", max_length=CHUNK)
            complete = lz.eof
        else:
            with zstandard.ZstdDecompressor().stream_reader(raw) as reader:
                while total <= cap and (piece := reader.read(CHUNK)):
                    pieces.append(piece)
                    total += len(piece)
            complete = True  # a cut frame shows as a wrong size prefix in _packet_events
    except (RuntimeError, zstandard.ZstdError) as err:
        raise EventFileError(path, f"packet does not decompress: {err}", offset=offset) from None
    if total > cap:
        raise EventFileError(path, f"packet of {len(raw)} bytes expands more than {MAX_EXPANSION}×", offset=offset)
    if not complete:
        raise EventFileError(path, "packet's compressed frame is cut short", offset=offset)
    return b"".join(pieces)


def _packet_events(raw: bytes, compression: int, path: Path, offset: int) -> np.ndarray:
    """The Event structs of one event packet (size-prefixed EventPacket flatbuffer)."""
    body = _decompress(raw, compression, path, offset) if compression else raw
    buf = _Flatbuffer(body[4:], path, offset, "event packet")
    if len(body) < 4 or struct.unpack_from("<I", body)[0] != len(body) - 4:
        buf.fail(f"size prefix does not match its {len(body)} bytes")
    start, n = buf.vector(buf.root(b"EVTS"), 0, EVENT.itemsize)
    return np.frombuffer(buf.data, EVENT, count=n, offset=start) if n else np.zeros(0, EVENT)


def decode_aedat4(data: bytes, path: str | PathLike[str] = "<bytes>") -> tuple[np.ndarray, tuple[int, int, int]]:
    """(EVENT_DTYPE events, (W, H, 2)) of the first event stream (lowest id) of AEDAT 4.0 bytes."""
    path = Path(path)
    expect_format(data[:HEAD_BYTES], path, "AEDAT 4.0", "an AEDAT 4.0")
    if not data.startswith(MAGIC):
        raise EventFileError(path, "first line is not '#!AER-DAT4.0' ended by CR LF", offset=0)
    pos = len(MAGIC)
    if len(data) < pos + 4:
        raise EventFileError(path, "file ends before the IOHeader size", offset=pos)
    (n,) = struct.unpack_from("<i", data, pos)
    if not 8 <= n <= len(data) - pos - 4:
        raise EventFileError(path, f"IOHeader declares {n} bytes, {len(data) - pos - 4} follow", offset=pos)
    header = _Flatbuffer(data[pos + 4 : pos + 4 + n], path, pos + 4, "IOHeader")
    root = header.root(b"IOHE")
    compression = header.scalar(root, 0, "<i", 0)
    if compression not in (0, *LZ4, *ZSTD):
        header.fail(f"compression {compression} unknown (0 none, 1–2 LZ4, 3–4 Zstd)")
    end = header.scalar(root, 1, "<q", -1)
    start, length = header.vector(root, 2, 1)  # infoNode: a string is a byte vector
    streams = _streams(header.data[start : start + length], path, pos + 4)
    pos += 4 + n
    end = len(data) if end < 0 else end
    if not pos <= end <= len(data):
        raise EventFileError(path, f"dataTablePosition {end} lies outside the packets ({pos}..{len(data)})", offset=pos)
    events = sorted(i for i, (kind, _, _) in streams.items() if kind == "EVTS")
    if not events:
        raise EventFileError(path, f"no event stream (streams: {sorted(k for k, _, _ in streams.values())})")
    sid = events[0]
    chunks: list[np.ndarray] = []
    packets: list[int] = []  # file offset of each chunk's packet
    while pos < end:
        if end - pos < 8:
            raise EventFileError(path, f"truncated packet header: {end - pos} bytes left, a header takes 8", offset=pos)
        stream, size = struct.unpack_from("<ii", data, pos)
        if stream not in streams:
            raise EventFileError(path, f"packet of stream {stream}, which the IOHeader does not describe", offset=pos)
        if not 0 < size <= end - pos - 8:
            raise EventFileError(path, f"packet declares {size} bytes, {end - pos - 8} remain", offset=pos)
        if stream == sid:
            chunks.append(_packet_events(data[pos + 8 : pos + 8 + size], compression, path, pos))
            packets.append(pos)
        pos += 8 + size
    raw = np.concatenate(chunks) if chunks else np.zeros(0, EVENT)
    if len(raw) == 0:
        raise EventFileError(path, f"event stream {sid} holds no events")
    _, width, height = streams[sid]
    x, y, t, p = (raw[f].astype(np.int64) for f in ("x", "y", "t", "on"))
    counts = np.array([len(c) for c in chunks])

    def where(i: int) -> tuple[str, int]:
        k = int(np.searchsorted(np.cumsum(counts), i, side="right"))
        return f"event {i - int(counts[:k].sum())} of its packet", packets[k]

    bad = np.flatnonzero((x < 0) | (x >= width) | (y < 0) | (y >= height))
    if bad.size:
        i = int(bad[0])
        which, at = where(i)
        raise EventFileError(
            path, f"{which} at (x={x[i]}, y={y[i]}) is outside the {width}x{height} sensor of stream {sid}", offset=at
        )
    bad = np.flatnonzero(np.diff(t, prepend=0) < 0)  # negative first timestamp, or time going back
    if bad.size:
        i = int(bad[0])
        which, at = where(i)
        before = f"goes back from {t[i - 1]} to" if i else "is negative:"
        raise EventFileError(path, f"timestamp of {which} {before} {t[i]} µs", offset=at)
    return make_events(x, y, t, (p != 0).astype(np.int64)), (width, height, 2)
