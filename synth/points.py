"""A design point of the benchmark as a typed record: one entry of bench.json's "points".

`BenchPoint` is what `synth.bench` built at one (weights, P, Q), what synthesis said of it
and what it measures on the test set (`PointMetrics`, from `synth.metrics.point_metrics`).
`to_dict()` writes bench.json's layout; `from_dict(d, where)` checks every field and names
the file and the field of the first one that is wrong (`RecordError`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional

from snn2fpga.core.records import Fields
from snn2fpga.rtl.point import DesignPoint

STATUSES = ("ok", "does_not_fit", "failed")
# the synthesis fields bench.json holds for each status, in its order
STATUS_FIELDS = {
    "ok": ("device", "lut", "ff", "bram", "dsp", "lut_pnr", "fmax_mhz", "timing_met", "runtime_s"),
    "does_not_fit": ("over", "utilization", "lut", "fmax_mhz"),
    "failed": ("error", "lut", "fmax_mhz"),
}


@dataclass(frozen=True)
class CycleStats:
    """Cycles per sample over the test set: mean, p50, p99 (nearest rank), min, max."""

    mean: float
    p50: int
    p99: int
    min: int
    max: int

    @classmethod
    def from_fields(cls, f: Fields) -> "CycleStats":
        return cls(f.number("mean", 0), *(f.integer(k, 0) for k in ("p50", "p99", "min", "max")))


@dataclass(frozen=True)
class Latency:
    """Latency per sample in µs at Fmax: mean, p99, max."""

    mean: float
    p99: float
    max: float

    @classmethod
    def from_fields(cls, f: Fields) -> "Latency":
        return cls(*(f.number(k, 0) for k in ("mean", "p99", "max")))


@dataclass(frozen=True)
class PointMetrics:
    """Latency, throughput and synaptic operations of one point (definitions in synth/bench.py);
    the Fmax-dependent ones None without an Fmax, `lut_x_latency` None without a LUT count."""

    cycles: CycleStats
    sop_per_sample: float
    sop_per_cycle: float
    lane_bound: int
    lane_efficiency: float
    cycles_at_bound: float
    latency_us: Optional[Latency] = None
    samples_per_s: Optional[float] = None
    lut_x_latency: Optional[float] = None
    latency_at_bound_us: Optional[float] = None  # in bench.json only with an Fmax

    def to_dict(self) -> dict:
        d = asdict(self)
        if self.latency_at_bound_us is None:
            del d["latency_at_bound_us"]
        return d

    @classmethod
    def from_fields(cls, f: Fields) -> "PointMetrics":
        latency = f.raw("latency_us", None)
        return cls(
            cycles=CycleStats.from_fields(f.record("cycles")),
            sop_per_sample=f.number("sop_per_sample", 0),
            sop_per_cycle=f.number("sop_per_cycle", 0),
            lane_bound=f.integer("lane_bound", 1),
            lane_efficiency=f.number("lane_efficiency", 0),
            cycles_at_bound=f.number("cycles_at_bound", 0),
            latency_us=None if latency is None else Latency.from_fields(f.record("latency_us")),
            samples_per_s=f.optional_number("samples_per_s", 0),
            lut_x_latency=f.optional_number("lut_x_latency", 0),
            latency_at_bound_us=f.optional_number("latency_at_bound_us", 0),
        )


@dataclass(frozen=True)
class BenchPoint:
    """One benchmark point: the model's weights (or a width variant) at P lanes and Q LIF units
    (`per_lane`: Q = P asked for), its synthesis report, what synthesis gave (the fields of
    `status`, STATUS_FIELDS) and its metrics."""

    weights: str
    point: DesignPoint  # units: the Q built (P when one per lane)
    per_lane: bool
    report: str  # the path of its synthesis report.json
    status: str  # "ok" | "does_not_fit" | "failed"
    metrics: PointMetrics
    device: Optional[str] = None
    lut: Optional[int] = None
    ff: Optional[int] = None
    bram: Optional[int] = None
    dsp: Optional[int] = None
    lut_pnr: Optional[int] = None
    fmax_mhz: Optional[float] = None
    timing_met: Optional[bool] = None
    runtime_s: Optional[dict[str, float]] = None  # seconds per step of the flow
    over: tuple[str, ...] = ()  # does_not_fit: the resources over capacity
    utilization: Optional[dict[str, dict[str, int]]] = None  # does_not_fit: {resource: {used, available}}
    error: Optional[str] = None  # failed: the first line of the error

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status {self.status!r} unknown; one of {', '.join(STATUSES)}")

    def to_dict(self) -> dict:
        """This point as bench.json holds it."""
        head = {"weights": self.weights, "lanes": self.point.lanes, "units": self.point.units,
                "per_lane": self.per_lane, "report": self.report, "status": self.status}
        synthesis = {k: getattr(self, k) for k in STATUS_FIELDS[self.status]}
        if "over" in synthesis:
            synthesis["over"] = list(self.over)
        return {**head, **synthesis, **self.metrics.to_dict()}

    @classmethod
    def from_dict(cls, data: object, where: str = "bench point") -> "BenchPoint":
        """Check every field of a bench.json point read from `where` (named in the errors)."""
        f = Fields.of(data, where, "bench point")
        try:
            point = DesignPoint(f.raw("lanes"), f.raw("units"))
        except ValueError as exc:
            raise f.error(f"{where}: bench point: {exc}") from None
        if point.units is None or point.units > point.lanes:
            raise f.fail("units", f"must be the LIF units built, 1 … lanes ({point.lanes})", point.units)
        status = f.text("status", STATUSES)
        present = STATUS_FIELDS[status]
        synthesis = {
            "device": f.text("device") if "device" in present else None,
            "lut": f.optional_integer("lut", 0),
            "ff": f.integer("ff", 0) if "ff" in present else None,
            "bram": f.integer("bram", 0) if "bram" in present else None,
            "dsp": f.integer("dsp", 0) if "dsp" in present else None,
            "lut_pnr": f.optional_integer("lut_pnr", 0),
            "fmax_mhz": f.optional_number("fmax_mhz", 0),
            "timing_met": f.optional_flag("timing_met"),
            "runtime_s": f.numbers("runtime_s") if f.raw("runtime_s", None) is not None else None,
            "over": f.texts("over", 1) if "over" in present else (),
            "utilization": _utilization(f) if "utilization" in present else None,
            "error": f.text("error") if "error" in present else None,
        }
        if status == "ok" and synthesis["lut"] is None:
            raise f.fail("lut", "must be a non-negative integer for a point that synthesized", None)
        return cls(f.text("weights"), point, f.flag("per_lane"), f.text("report"), status,
                   PointMetrics.from_fields(f), **synthesis)


def _utilization(f: Fields) -> dict[str, dict[str, int]]:
    """{resource: {"used", "available"}} as nextpnr (or the capacity table) gave it."""
    util = f.record("utilization")
    return {k: {n: util.record(k).integer(n, 0) for n in ("used", "available")} for k in util.data}
