"""ExportMeta: what downstream stages need besides the network (T, pool, dataset, sensor, quantizers).

Stored in the ONNX model's `metadata_props` under keys `snn2fpga.<field>`, each value
JSON-encoded, so any ONNX tool shows it and qonnx's cleanup keeps it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Optional

from snn2fpga.export.errors import ModelFileError
from snn2fpga.train.data.datasets import DataSource

PREFIX = "snn2fpga."
FORMAT_VERSION = 2  # 2: conv and pool layers (layer_kinds); a dense-only network is still written as version 1
DENSE_FORMAT_VERSION = 1
OPTIONAL = frozenset({"sensor_size", "source", "format_version", "extra", "data", "checkpoint_sha256", "layer_kinds"})
OMIT_IF_NONE = frozenset({"layer_kinds"})  # written only when set, so a dense-only file is as before
LAYER_KINDS = ("dense", "conv", "pool")


@dataclass(frozen=True)
class ExportMeta:
    """Run-level facts about an exported network; `.steps` is the number of time steps T."""

    steps: int  # T time steps per sample
    pool: int  # spatial pooling factor of the input encoding
    dataset: str  # dataset name (train.data), "" if unknown
    n_in: int  # input spikes per step
    n_classes: int  # neurons of the last layer (= classes of the readout)
    layer_sizes: tuple[int, ...]  # neurons per LIF layer (pools excluded)
    weight_quants: tuple[str, ...]  # weight quantizer per LIF layer ("binary", "ternary", "int2".."int8")
    weight_scales: tuple[float, ...]  # power-of-two real scale per LIF layer (real weight = code × scale)
    sensor_size: Optional[tuple[int, int, int]] = None  # (W, H, P) before pooling, if known
    source: str = ""  # the run folder the model came from
    format_version: int = FORMAT_VERSION
    extra: dict = field(default_factory=dict)  # free-form (e.g. test accuracy), JSON-serialisable
    data: Optional[dict] = None  # the run's DataSource (train.data), None for a bare network
    checkpoint_sha256: str = ""  # SHA-256 of the model.pt it was exported from ("" for a bare network)
    layer_kinds: Optional[tuple[str, ...]] = None  # "dense" | "conv" | "pool" per layer, pools included; None: all dense

    @property
    def data_source(self) -> Optional[DataSource]:
        """The data the model was trained and tested on, if recorded."""
        return None if self.data is None else DataSource.from_dict(self.data, "model metadata")

    def to_props(self) -> dict[str, str]:
        """metadata_props entries: `snn2fpga.<field>` → JSON value."""
        return {PREFIX + k: json.dumps(v) for k, v in asdict(self).items() if not (k in OMIT_IF_NONE and v is None)}

    @classmethod
    def from_props(cls, props: dict[str, str], where: str) -> "ExportMeta":
        """Parse `snn2fpga.*` metadata; ModelFileError names a missing or malformed key."""
        kw: dict[str, Any] = {}
        for f in fields(cls):
            key = PREFIX + f.name
            if key not in props:
                if f.name in OPTIONAL:
                    continue
                raise ModelFileError(f"{where}: metadata {key!r} is missing")
            try:
                kw[f.name] = json.loads(props[key])
            except json.JSONDecodeError:
                raise ModelFileError(f"{where}: metadata {key!r} is not valid JSON: {props[key]!r}") from None
        for name in ("layer_sizes", "weight_quants", "weight_scales"):
            if not isinstance(kw[name], list):
                raise ModelFileError(f"{where}: metadata {PREFIX + name!r} must be a list")
            kw[name] = tuple(kw[name])
        if kw.get("layer_kinds") is not None:
            kinds = kw["layer_kinds"]
            if not isinstance(kinds, list) or not all(k in LAYER_KINDS for k in kinds):
                raise ModelFileError(f"{where}: metadata {PREFIX}layer_kinds must be a list of {', '.join(LAYER_KINDS)}, got {kinds!r}")
            kw["layer_kinds"] = tuple(kinds)
        if kw.get("sensor_size") is not None:
            if not isinstance(kw["sensor_size"], list) or len(kw["sensor_size"]) != 3:
                raise ModelFileError(f"{where}: metadata {PREFIX}sensor_size must be [W, H, P], got {kw['sensor_size']!r}")
            kw["sensor_size"] = tuple(kw["sensor_size"])
        if not isinstance(kw.get("extra", {}), dict):
            raise ModelFileError(f"{where}: metadata {PREFIX}extra must be an object")
        for name in ("steps", "pool", "n_in", "n_classes"):
            if not isinstance(kw[name], int) or kw[name] < 1:
                raise ModelFileError(f"{where}: metadata {PREFIX + name!r} must be a positive integer, got {kw[name]!r}")
        if kw.get("data") is not None:
            try:
                DataSource.from_dict(kw["data"], f"{where}: metadata {PREFIX}data")
            except ValueError as e:
                raise ModelFileError(str(e)) from None
        if not isinstance(kw.get("checkpoint_sha256", ""), str):
            raise ModelFileError(f"{where}: metadata {PREFIX}checkpoint_sha256 must be a string")
        if kw.get("format_version", FORMAT_VERSION) > FORMAT_VERSION:
            raise ModelFileError(f"{where}: format_version {kw['format_version']} is newer than this loader ({FORMAT_VERSION})")
        return cls(**kw)
