"""Which event-file format a file's first bytes announce, so a reader refuses another format by name.

Every reader calls `expect_format` on the head of its file before decoding: a Prophesee
.dat handed to the N-MNIST reader is then reported as "not an N-MNIST .bin file: it
looks like Prophesee DAT", not decoded into events outside the sensor. Formats with a
signature are recognised by it; N-MNIST's headerless 40-bit records have none, so the
N-MNIST reader expects "no known signature" (`None`).
"""

from __future__ import annotations

from os import PathLike

from snn2fpga.core.events import EventFileError

HEAD_BYTES = 512  # enough for every signature below
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (HDF5_SIGNATURE, "HDF5"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x1f\x8b", "gzip archive"),
    (b"\x93NUMPY", "NumPy .npy"),
)


def sniff_format(head: bytes) -> str | None:
    """The format a file's first bytes announce ("AEDAT 3.1", "Prophesee DAT", "HDF5", …), or None."""
    if head.startswith(b"#!AER-DAT"):
        version = head[9:].split(b"\r", 1)[0].split(b"\n", 1)[0][:8]
        return f"AEDAT {version.decode('ascii', 'replace')}"
    if head.startswith(b"% "):  # Prophesee: "% key value" header lines; RAW files name their EVT encoding
        header = head.lower()
        return "Prophesee RAW (EVT)" if b"% evt " in header or b"% format evt" in header else "Prophesee DAT"
    for signature, name in _SIGNATURES:
        if head.startswith(signature):
            return name
    return None


def first_line(head: bytes) -> str:
    """The first line of `head` (at most 60 characters), for error messages."""
    return head.split(b"\n", 1)[0].rstrip(b"\r")[:60].decode("latin-1")


def expect_format(head: bytes, path: str | PathLike[str], expected: str | None, name: str) -> None:
    """Raise EventFileError unless `head` sniffs as `expected` (None: no known signature).

    `name` is what the calling reader reads, with its article ("an N-MNIST .bin"); the
    message says what the file looks like instead, with its first line or first bytes.
    """
    found = sniff_format(head)
    if found == expected:
        return
    if found is not None:
        looks = f"it looks like {found} (first line {first_line(head)!r})"
    elif head:
        looks = f"it has no {expected} signature (it begins with bytes {head[:8].hex(' ')})"
    else:
        looks = "it is empty"
    raise EventFileError(path, f"not {name} file: {looks}", offset=0)


def text_header_end(data: bytes, path: str | PathLike[str], prefix: bytes) -> int:
    """Offset just past the leading text lines that start with `prefix` (AEDAT 2.0 '#', Prophesee DAT '% ')."""
    pos = 0
    while data.startswith(prefix, pos):
        eol = data.find(b"\n", pos)
        if eol < 0:
            raise EventFileError(path, "header line never ends: the file ends inside the header", offset=pos)
        pos = eol + 1
    return pos


def check_event_body(data: bytes, pos: int, event_size: int, path: str | PathLike[str]) -> None:
    """Refuse an event block (from `pos` to the end) that is empty or not whole `event_size`-byte events."""
    body = len(data) - pos
    if body == 0:
        raise EventFileError(path, "empty sample: the file holds no events", offset=pos)
    if body % event_size:
        whole = pos + body - body % event_size
        raise EventFileError(
            path, f"truncated: {body % event_size} stray bytes after {body // event_size} events", offset=whole
        )
