"""manifest.json of a generated design as a typed record (docs/rtl.md, "Generator and manifest").

`rtl.generate` returns a `Manifest` and writes `Manifest.to_json()`; every reader (sim, synth,
the figures) goes through `Manifest.read(path)`, which checks each field and names the file
and the field of the first one that is wrong (`ManifestError`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

from snn2fpga.core.contract import MEMBRANE_QUANTS, RESETS, WEIGHT_QUANTS
from snn2fpga.core.records import Fields, RecordError
from snn2fpga.rtl.cycle_model import KINDS, ConvGeometry, CycleParams

MANIFEST_FORMAT = "snn2fpga-rtl/1"
MANIFEST_FILE = "manifest.json"


class ManifestError(RecordError):
    """A manifest (file or dict) with a missing, ill-typed or inconsistent field."""


@dataclass(frozen=True)
class Port:
    """One Verilog port of the top (clk and rst included)."""

    name: str
    dir: str  # "in" | "out"
    width: int

    @classmethod
    def from_fields(cls, f: Fields) -> "Port":
        return cls(f.text("name"), f.text("dir", ("in", "out")), f.integer("width", 1))


@dataclass(frozen=True)
class Aer:
    """The AER word of the input and output streams: address bits, then the eos bit."""

    payload: str  # the layout, in words
    in_addr_bits: int
    out_addr_bits: int

    @classmethod
    def from_fields(cls, f: Fields) -> "Aer":
        return cls(f.text("payload"), f.integer("in_addr_bits", 1), f.integer("out_addr_bits", 1))


@dataclass(frozen=True)
class Tap:
    """The debug stream `port` ("tap<l>") that mirrors layer `layer`'s output words."""

    port: str
    layer: int
    addr_bits: int

    @classmethod
    def from_fields(cls, f: Fields) -> "Tap":
        return cls(f.text("port"), f.integer("layer", 0), f.integer("addr_bits", 1))


@dataclass(frozen=True)
class Memory:
    """One memory of a layer: depth × width bits, its init image (None: starts at zero)."""

    name: str
    depth: int
    width: int
    bits: int
    init_file: Optional[str]

    @classmethod
    def from_fields(cls, f: Fields) -> "Memory":
        return cls(f.text("name"), f.integer("depth", 1), f.integer("width", 1), f.integer("bits", 1),
                   f.optional_text("init_file"))


@dataclass(frozen=True)
class MapEntry:
    """The maps of a conv or pool layer: C×H×W in and out; conv: kernel, stride, padding; pool: k."""

    in_shape: tuple[int, int, int]
    out_shape: tuple[int, int, int]
    kernel: Optional[tuple[int, int]] = None
    stride: Optional[int] = None
    padding: Optional[int] = None
    k: Optional[int] = None

    def to_dict(self) -> dict:
        d = {"in_shape": list(self.in_shape), "out_shape": list(self.out_shape)}
        if self.k is None:
            d.update(kernel=list(self.kernel), stride=self.stride, padding=self.padding)
        else:
            d["k"] = self.k
        return d

    @classmethod
    def from_fields(cls, f: Fields, kind: str) -> "MapEntry":
        shapes = {}
        for key in ("in_shape", "out_shape"):
            shapes[key] = f.integers(key, 1)
            if len(shapes[key]) != 3:
                raise f.fail(key, "must be [C, H, W]", list(shapes[key]))
        if kind == "pool":
            return cls(**shapes, k=f.integer("k", 1))
        kernel = f.integers("kernel", 1)
        if len(kernel) != 2:
            raise f.fail("kernel", "must be [K_h, K_w]", list(kernel))
        return cls(**shapes, kernel=kernel, stride=f.integer("stride", 1), padding=f.integer("padding", 0))


@dataclass(frozen=True)
class LayerEntry:
    """One layer's hardware: its kind and shape, its design point, its LIF parameters and widths
    (None for a pool, which has none), its memories, and for a conv or pool its maps."""

    index: int
    instance: str  # "layer<l>"
    n_in: int
    n: int
    lanes: int
    rows: int
    units: int
    slices: int
    row_cycles: int
    weight_quant: Optional[str]
    weight_bits: Optional[int]
    membrane: Optional[str]
    membrane_bits: Optional[int]
    threshold: Optional[int]
    delta: Optional[int]
    acc_bits: Optional[int]
    leak_shift: Optional[int]
    reset: Optional[str]
    current_bits: Optional[int]
    has_bias: bool
    in_addr_bits: int
    out_addr_bits: int
    memories: tuple[Memory, ...]
    kind: str = "dense"
    map: Optional[MapEntry] = None

    def to_dict(self) -> dict:
        d = {**asdict(self), "memories": [asdict(m) for m in self.memories]}
        d.pop("map")
        if self.map is not None:
            d["map"] = self.map.to_dict()
        return d

    @property
    def weight_count(self) -> int:
        """Weight codes stored: N·N_in (dense), C_out·C_in·K_h·K_w (conv), 0 (pool)."""
        if self.kind == "pool":
            return 0
        if self.kind == "conv":
            return self.map.out_shape[0] * self.map.in_shape[0] * self.map.kernel[0] * self.map.kernel[1]
        return self.n * self.n_in

    @classmethod
    def from_fields(cls, f: Fields) -> "LayerEntry":
        kind = f.text("kind", KINDS) if "kind" in f.data else "dense"
        lif = kind != "pool"  # a pool has no weights, membranes or currents: those fields are null

        def integer(key, low):
            return f.integer(key, low) if lif else f.optional_integer(key, low)

        def text(key, choices):
            return f.text(key, choices) if lif else (None if f.raw(key, None) is None else f.text(key, choices))

        return cls(
            index=f.integer("index", 0), instance=f.text("instance"), n_in=f.integer("n_in", 1), n=f.integer("n", 1),
            lanes=f.integer("lanes", 1), rows=f.integer("rows", 1), units=f.integer("units", 1),
            slices=f.integer("slices", 1), row_cycles=f.integer("row_cycles", 1),
            weight_quant=text("weight_quant", WEIGHT_QUANTS), weight_bits=integer("weight_bits", 1),
            membrane=text("membrane", MEMBRANE_QUANTS), membrane_bits=integer("membrane_bits", 1),
            threshold=integer("threshold", 1), delta=integer("delta", 1), acc_bits=integer("acc_bits", 2),
            leak_shift=f.optional_integer("leak_shift", 1), reset=text("reset", RESETS),
            current_bits=integer("current_bits", 1), has_bias=f.flag("has_bias"),
            in_addr_bits=f.integer("in_addr_bits", 1), out_addr_bits=f.integer("out_addr_bits", 1),
            memories=tuple(Memory.from_fields(m) for m in f.records("memories", 1)),
            kind=kind,
            map=None if kind == "dense" else MapEntry.from_fields(f.record("map"), kind),
        )


@dataclass(frozen=True)
class MemoryBits:
    """Memory totals over the layers: physical bits per memory kind (padded to whole rows of
    P lanes), and the stored state proper, unpadded (N·m membrane, N·N_in·w weight bits)."""

    weights: int
    currents: int
    membranes: int
    spike_buffer: int
    membrane_state: int
    weight_codes: int
    bias: Optional[int] = None  # only with a bias in some layer
    bitmap: Optional[int] = None  # only with a pool layer

    @classmethod
    def of_layers(cls, layers: tuple[LayerEntry, ...]) -> "MemoryBits":
        totals: dict[str, int] = {"weights": 0, "currents": 0, "membranes": 0}
        for entry in layers:
            for mem in entry.memories:
                totals[mem.name] = totals.get(mem.name, 0) + mem.bits
        lif = [e for e in layers if e.kind != "pool"]
        return cls(**totals, membrane_state=sum(e.n * e.membrane_bits for e in lif),
                   weight_codes=sum(e.weight_count * e.weight_bits for e in lif))

    def to_dict(self) -> dict:
        physical = {"weights": self.weights, "currents": self.currents, "membranes": self.membranes}
        if self.bias is not None:
            physical["bias"] = self.bias
        if self.bitmap is not None:
            physical["bitmap"] = self.bitmap
        return {**physical, "spike_buffer": self.spike_buffer, "membrane_state": self.membrane_state,
                "weight_codes": self.weight_codes}

    @classmethod
    def from_fields(cls, f: Fields) -> "MemoryBits":
        return cls(*(f.integer(k, 0) for k in ("weights", "currents", "membranes", "spike_buffer", "membrane_state",
                                               "weight_codes")), bias=f.optional_integer("bias", 0),
                   bitmap=f.optional_integer("bitmap", 0))


def _cycle_model_dict(params: CycleParams) -> dict:
    return {**params.to_dict(), "clear_cycles": params.clear_cycles()}


def _geometry(f: Fields, i: int) -> Optional[ConvGeometry]:
    """Entry i of the cycle model's `convs`: null, or a conv layer's geometry."""
    item = f.array("convs")[i]
    if item is None:
        return None
    if not isinstance(item, dict):
        raise f.fail(f"convs[{i}]", "must be null or a JSON object", item)
    g = Fields(item, f.where, f.kind, f"{f.path}convs[{i}].", f.error)
    shape, size, kernel = g.integers("in_shape", 1), g.integers("out_size", 1), g.integers("kernel", 1)
    if (len(shape), len(size), len(kernel)) != (3, 2, 2):
        raise g.fail("in_shape", "with out_size and kernel must be [C, H, W], [H_out, W_out], [K_h, K_w]",
                     [list(shape), list(size), list(kernel)])
    return ConvGeometry(shape, size, kernel, g.integer("stride", 1), g.integer("padding", 0))


def _cycle_model(f: Fields, n_layers: int) -> CycleParams:
    """The cycle model's parameters; its constants and `clear_cycles` must be this version's."""
    rows, row_cycles = f.integers("rows", 1, 1), f.integers("row_cycles", 1, 1)
    layered = "kinds" in f.data  # written only for networks with a conv or pool layer
    kinds = f.texts("kinds", 1) if layered else ()
    event_rows = f.integers("event_rows", 1, 1) if layered else ()
    convs = tuple(_geometry(f, i) for i in range(len(f.array("convs", 1)))) if layered else ()
    for key, values in (("rows", rows), ("row_cycles", row_cycles), ("kinds", kinds), ("event_rows", event_rows),
                        ("convs", convs)):
        if layered or key in ("rows", "row_cycles"):
            if len(values) != n_layers:
                raise f.fail(key, f"must have one entry per layer ({n_layers})", list(values))
    try:
        params = CycleParams(rows, f.integer("steps", 1), row_cycles, kinds, event_rows, convs)
    except ValueError as exc:
        raise f.fail("kinds", f"do not fit the layers ({exc})", list(kinds)) from None
    for key, want in _cycle_model_dict(params).items():
        if key not in ("rows", "row_cycles", "steps", "kinds", "event_rows", "convs") and f.integer(key) != want:
            raise f.fail(key, f"must be {want} (this version's cycle model)", f.raw(key))
    return params


@dataclass(frozen=True)
class Manifest:
    """What `rtl.generate` built: the top's ports and streams, P, Q, T, every layer, the memory
    totals and the cycle model's parameters (the fields of manifest.json, in its order)."""

    source: str  # the model file it came from ("" unless given)
    top: str
    verilog: tuple[str, ...]  # file names, relative to the manifest's folder
    lanes: int
    units: Optional[int]  # None: one LIF unit per lane
    steps: int
    n_in: int
    n_classes: int
    count_bits: int
    ports: tuple[Port, ...]
    aer: Aer
    taps: tuple[Tap, ...]
    layers: tuple[LayerEntry, ...]
    memory_bits: MemoryBits
    cycle_model: CycleParams
    generation_s: Optional[float]  # seconds to build and convert the design
    checkpoint_sha256: str = ""  # the model.pt behind `source` ("" for a bare network or an older manifest)

    def to_dict(self) -> dict:
        """The JSON object of manifest.json (docs/rtl.md)."""
        return {
            "format": MANIFEST_FORMAT,
            "source": self.source,
            "top": self.top,
            "verilog": list(self.verilog),
            "lanes": self.lanes,
            "units": self.units,
            "steps": self.steps,
            "n_in": self.n_in,
            "n_classes": self.n_classes,
            "count_bits": self.count_bits,
            "ports": [asdict(p) for p in self.ports],
            "aer": asdict(self.aer),
            "taps": [asdict(t) for t in self.taps],
            "layers": [layer.to_dict() for layer in self.layers],
            "memory_bits": self.memory_bits.to_dict(),
            "cycle_model": _cycle_model_dict(self.cycle_model),
            "generation_s": self.generation_s,
            "checkpoint_sha256": self.checkpoint_sha256,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def read(cls, path) -> "Manifest":
        """Read and check a manifest.json; `ManifestError` names the file and the first bad field."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ManifestError(f"{path}: not a JSON manifest ({exc})") from None
        return cls.from_dict(data, str(path))

    @classmethod
    def from_dict(cls, data: object, where: str = "manifest") -> "Manifest":
        """Check every field of a manifest dict read from `where` (named in the errors)."""
        f = Fields.of(data, where, "manifest", ManifestError)
        f.text("format", (MANIFEST_FORMAT,))
        layers = tuple(LayerEntry.from_fields(layer) for layer in f.records("layers", 1))
        taps = tuple(Tap.from_fields(t) for t in f.records("taps", 1))
        if len(taps) != len(layers):
            raise f.fail("taps", f"must have one entry per layer ({len(layers)})", [t.port for t in taps])
        steps = f.integer("steps", 1)
        cycle_model = _cycle_model(f.record("cycle_model"), len(layers))
        if cycle_model.steps != steps:
            raise f.fail("cycle_model.steps", f"must equal steps ({steps})", cycle_model.steps)
        return cls(
            source=f.text("source"),
            top=f.text("top"),
            verilog=f.texts("verilog", 1),
            lanes=f.integer("lanes", 1),
            units=f.optional_integer("units", 1),
            steps=steps,
            n_in=f.integer("n_in", 1),
            n_classes=f.integer("n_classes", 1),
            count_bits=f.integer("count_bits", 1),
            ports=tuple(Port.from_fields(p) for p in f.records("ports", 1)),
            aer=Aer.from_fields(f.record("aer")),
            taps=taps,
            layers=layers,
            memory_bits=MemoryBits.from_fields(f.record("memory_bits")),
            cycle_model=cycle_model,
            generation_s=f.optional_number("generation_s", 0),
            checkpoint_sha256=f.optional_text("checkpoint_sha256") or "",
        )
