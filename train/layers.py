"""Per-layer settings: `--layer 1:weights=int8 --layer last:weights=int8,membrane=full` over the LIF layers.

An override names a LIF layer (1-based, `first` or `last`; pool layers have no neurons and
are not counted) and sets any of `weights`, `membrane`, `leak` (a shift k ≥ 1 or `none`)
and `reset`; every other setting comes from the run's global options. CBP-QSNN-style
int8 first and last layers are `--layer first:weights=int8 --layer last:weights=int8`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from snn2fpga.core.contract import MEMBRANE_QUANTS, RESETS, WEIGHT_QUANTS, ContractError

KEYS = ("weights", "membrane", "leak", "reset")


@dataclass(frozen=True)
class LayerSettings:
    """What one LIF layer is built with: its weight and membrane quantizers, leak shift (None: IF) and reset."""

    weights: str
    membrane: str
    leak: Optional[int]
    reset: str


def _leak(value: str, where: str) -> Optional[int]:
    if value.lower() in ("none", "if"):
        return None
    if not value.isdigit() or int(value) < 1:
        raise ContractError(f"{where}: leak={value!r} must be a shift k ≥ 1 or 'none'")
    return int(value)


def _layer_index(text: str, n_layers: int, where: str) -> int:
    """0-based index of `1`..`n`, `first` or `last`; ContractError naming the index otherwise."""
    low = text.strip().lower()
    if low == "first":
        return 0
    if low == "last":
        return n_layers - 1
    if not low.isdigit():
        raise ContractError(f"{where}: layer {text!r} must be 1..{n_layers}, 'first' or 'last'")
    index = int(low)
    if not 1 <= index <= n_layers:
        raise ContractError(f"{where}: layer {index} does not exist; the network has {n_layers} LIF layers (1..{n_layers})")
    return index - 1


def parse_override(text: str, n_layers: int) -> tuple[int, dict]:
    """`L:key=value,…` → (0-based LIF layer index, {key: value}), each key and value checked and named when wrong."""
    where = f"--layer {text!r}"
    layer, sep, body = text.partition(":")
    if not sep or not body.strip():
        raise ContractError(f"{where}: expected LAYER:key=value[,key=value…], e.g. last:weights=int8")
    index = _layer_index(layer, n_layers, where)
    settings: dict = {}
    for item in body.split(","):
        key, eq, value = (part.strip() for part in item.partition("="))
        if key not in KEYS or not eq:
            raise ContractError(f"{where}: {item.strip()!r} is not key=value with a key of {', '.join(KEYS)}")
        if key in settings:
            raise ContractError(f"{where}: {key} is given twice")
        allowed = {"weights": WEIGHT_QUANTS, "membrane": MEMBRANE_QUANTS, "reset": RESETS}.get(key)
        if allowed is not None and value not in allowed:
            raise ContractError(f"{where}: {key}={value!r} unknown; choose one of {', '.join(allowed)}")
        settings[key] = _leak(value, where) if key == "leak" else value
    return index, settings


def resolve(defaults: LayerSettings, overrides: list[str], n_layers: int) -> list[LayerSettings]:
    """Every LIF layer's settings: the defaults, then each override in order (a later one wins)."""
    layers = [dict(vars(defaults)) for _ in range(n_layers)]
    for text in overrides:
        index, settings = parse_override(text, n_layers)
        layers[index].update(settings)
    return [LayerSettings(**d) for d in layers]
