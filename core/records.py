"""Typed records read back from JSON: each field checked, each error naming the file and the field.

    f = Fields.of(data, "build/rtl/manifest.json", "manifest")
    lanes = f.integer("lanes", low=1)   # RecordError: "build/rtl/manifest.json: manifest field
                                        #  'lanes' must be a positive integer, got -1"
    taps = [Tap.from_fields(t) for t in f.records("taps")]   # fields 'taps[0].port', …
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional, Sequence

_MISSING = object()


class RecordError(ValueError):
    """A field of a record read from JSON is missing, of the wrong type or out of range."""


def _integer_kind(low: Optional[int]) -> str:
    return {None: "an integer", 0: "a non-negative integer", 1: "a positive integer"}.get(low, f"an integer ≥ {low}")


@dataclass(frozen=True)
class Fields:
    """The fields of one JSON object of a record `kind` read from `where`; `path` its place inside."""

    data: Mapping[str, Any]
    where: str
    kind: str
    path: str = ""
    error: type[RecordError] = RecordError

    @classmethod
    def of(cls, data: object, where: str, kind: str, error: type[RecordError] = RecordError) -> "Fields":
        """The top-level object of a record; `RecordError` (or `error`) if `data` is not a JSON object."""
        if not isinstance(data, Mapping):
            raise error(f"{where}: {kind} must be a JSON object, got {type(data).__name__}")
        return cls(data, where, kind, "", error)

    def fail(self, key: str, what: str, got: object) -> RecordError:
        """The error for field `key`: "<where>: <kind> field '<path.key>' <what>, got <got>"."""
        return self.error(f"{self.where}: {self.kind} field '{self.path}{key}' {what}, got {got!r}")

    def raw(self, key: str, default: object = _MISSING) -> object:
        """The field as stored; missing is an error unless a `default` is given."""
        if key in self.data:
            return self.data[key]
        if default is _MISSING:
            raise self.error(f"{self.where}: {self.kind} field '{self.path}{key}' is missing")
        return default

    def integer(self, key: str, low: Optional[int] = None) -> int:
        value = self.raw(key)
        if isinstance(value, bool) or not isinstance(value, int) or (low is not None and value < low):
            raise self.fail(key, f"must be {_integer_kind(low)}", value)
        return value

    def optional_integer(self, key: str, low: Optional[int] = None) -> Optional[int]:
        return None if self.raw(key, None) is None else self.integer(key, low)

    def number(self, key: str, low: Optional[float] = None, high: Optional[float] = None) -> float:
        value = self.raw(key)
        bad = isinstance(value, bool) or not isinstance(value, (int, float))
        if bad or (low is not None and value < low) or (high is not None and value > high):
            bounds = f" in [{low}, {high}]" if low is not None and high is not None else (f" ≥ {low}" if low is not None else "")
            raise self.fail(key, f"must be a number{bounds}", value)
        return float(value)

    def optional_number(self, key: str, low: Optional[float] = None) -> Optional[float]:
        return None if self.raw(key, None) is None else self.number(key, low)

    def text(self, key: str, choices: Sequence[str] = ()) -> str:
        value = self.raw(key)
        if not isinstance(value, str) or (choices and value not in choices):
            raise self.fail(key, f"must be one of {', '.join(map(repr, choices))}" if choices else "must be a string", value)
        return value

    def optional_text(self, key: str) -> Optional[str]:
        return None if self.raw(key, None) is None else self.text(key)

    def flag(self, key: str) -> bool:
        value = self.raw(key)
        if not isinstance(value, bool):
            raise self.fail(key, "must be true or false", value)
        return value

    def optional_flag(self, key: str) -> Optional[bool]:
        return None if self.raw(key, None) is None else self.flag(key)

    def record(self, key: str) -> "Fields":
        """The nested object `key`, its fields named '<path>key.<field>'."""
        value = self.raw(key)
        if not isinstance(value, Mapping):
            raise self.fail(key, "must be a JSON object", value)
        return Fields(value, self.where, self.kind, f"{self.path}{key}.", self.error)

    def array(self, key: str, min_len: int = 0) -> list:
        value = self.raw(key)
        if not isinstance(value, list) or len(value) < min_len:
            raise self.fail(key, "must be a list" + (f" of at least {min_len}" if min_len else ""), value)
        return value

    def records(self, key: str, min_len: int = 0) -> list["Fields"]:
        """The list of objects `key`, each one's fields named '<path>key[i].<field>'."""
        out = []
        for i, item in enumerate(self.array(key, min_len)):
            if not isinstance(item, Mapping):
                raise self.fail(f"{key}[{i}]", "must be a JSON object", item)
            out.append(Fields(item, self.where, self.kind, f"{self.path}{key}[{i}].", self.error))
        return out

    def integers(self, key: str, low: Optional[int] = None, min_len: int = 0) -> tuple[int, ...]:
        values = self.array(key, min_len)
        for i, v in enumerate(values):
            if isinstance(v, bool) or not isinstance(v, int) or (low is not None and v < low):
                raise self.fail(f"{key}[{i}]", f"must be {_integer_kind(low)}", v)
        return tuple(values)

    def texts(self, key: str, min_len: int = 0) -> tuple[str, ...]:
        values = self.array(key, min_len)
        for i, v in enumerate(values):
            if not isinstance(v, str):
                raise self.fail(f"{key}[{i}]", "must be a string", v)
        return tuple(values)

    def numbers(self, key: str) -> dict[str, float]:
        """An object of numbers (e.g. runtimes per tool), keys as stored."""
        inner = self.record(key)
        return {k: inner.number(k) for k in inner.data}
