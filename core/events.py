"""The event representation shared by every reader, the emulator and the binning."""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import numpy as np

# tonic's convention (x, y, t, p as int64), so tonic's transforms accept our arrays as-is.
EVENT_DTYPE = np.dtype([("x", "<i8"), ("y", "<i8"), ("t", "<i8"), ("p", "<i8")])


class EventFileError(ValueError):
    """An event file or folder that cannot be read as claimed; the message names it."""

    def __init__(self, path: str | PathLike[str], reason: str, offset: int | None = None) -> None:
        self.path = str(path)
        self.reason = reason
        self.offset = offset
        where = f" at byte {offset}" if offset is not None else ""
        super().__init__(f"{self.path}{where}: {reason}")


def read_bytes(path: Path) -> bytes:
    """The file's bytes, or EventFileError."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise EventFileError(path, "no such file") from None
    except OSError as err:
        raise EventFileError(path, f"cannot read: {err.strerror or err}") from None


def make_events(x: np.ndarray, y: np.ndarray, t: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Pack equal-length coordinate, time and polarity arrays into one EVENT_DTYPE array."""
    n = len(t)
    if not (len(x) == len(y) == len(p) == n):
        raise ValueError(f"event fields differ in length: x {len(x)}, y {len(y)}, t {n}, p {len(p)}")
    events = np.empty(n, dtype=EVENT_DTYPE)
    events["x"], events["y"], events["t"], events["p"] = x, y, t, p
    return events
