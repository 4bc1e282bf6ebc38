"""Atomic writes of files and folders: every artifact appears complete under its name or not at all.

The one family of writers of the project (text, JSON, bytes, npz, and a folder built
beside its destination); nothing else writes an artifact in place.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write through `write(tmp)` to a unique temporary name in the same folder, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        _usual_mode(Path(tmp), 0o666)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path: Path, text: str) -> None:
    """`text` at `path`, atomically."""
    atomic_write(path, lambda tmp: tmp.write_text(text))


def write_bytes(path: Path, data: bytes) -> None:
    """`data` at `path`, atomically."""
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


def write_json(path: Path, data: object) -> None:
    """`data` as indented JSON at `path`, atomically."""
    write_text(path, json.dumps(data, indent=2) + "\n")


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """`arrays` as an uncompressed .npz at `path`, atomically."""

    def save(tmp: Path) -> None:
        with open(tmp, "wb") as f:  # a file object: np.savez would otherwise append ".npz" to the name
            np.savez(f, **arrays)

    atomic_write(path, save)


def _usual_mode(path: Path, mode: int) -> None:
    """Give `path` `mode` less the umask (mkstemp/mkdtemp make them private)."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, mode & ~umask)


@contextmanager
def building_dir(out_dir: Path) -> Iterator[Path]:
    """Yield a fresh folder beside `out_dir` to build in; on success it replaces `out_dir` whole.

    On an exception the half-built folder is removed and `out_dir` is left as it was.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    _usual_mode(work, 0o777)
    try:
        yield work
        _swap_in(work, out_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _swap_in(work: Path, out_dir: Path) -> None:
    """Move `work` to `out_dir`; an existing `out_dir` is exchanged in one step, then removed."""
    if out_dir.exists() and _exchange(work, out_dir):
        shutil.rmtree(work, ignore_errors=True)  # `work` now holds the old contents
        return
    if out_dir.exists():  # no atomic exchange on this system: a brief gap while it is renamed away
        old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old.", dir=out_dir.parent))
        os.rename(out_dir, old / out_dir.name)
        os.rename(work, out_dir)
        shutil.rmtree(old, ignore_errors=True)
        return
    os.rename(work, out_dir)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with Linux's renameat2(RENAME_EXCHANGE); False where unsupported.

    Hand-written because Python's os module has no exchanging rename; without it a folder
    that is replaced would not exist for a moment.
    """
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def tree_hash(paths: Iterable[Path], extra: str = "") -> str:
    """Hex SHA-256 over files and folders (every file under a folder, by relative name and bytes) and `extra`.

    Build caches key on it: any change to a source that their output depends on is a miss.
    """
    h = hashlib.sha256(extra.encode())
    for root in paths:
        root = Path(root)
        files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts) if root.is_dir() else [root]
        for f in files:
            h.update(str(f.relative_to(root) if root.is_dir() else f.name).encode() + b"\0")
            h.update(f.read_bytes() + b"\0")
    return h.hexdigest()
