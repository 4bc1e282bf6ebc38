"""What one simulation run does, handed from pytest to the cocotb tests as a JSON file.

The pytest side writes a `Plan` next to the `Expectations` (.npz) under `build/sim/runs/…`
and names it in the environment variable `SIM_PLAN` (the runner's `extra_env`); the
cocotb tests in `sim/snn_cocotb.py` read it back with `Plan.from_env()` and write one
JSON report per cocotb test beside it (`Plan.report_path(test)`).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

from snn2fpga.rtl.stalls import Stalls

ENV = "SIM_PLAN"


@dataclass
class Phase:
    """Samples run one after another under one stall setting, checked the same way."""

    name: str
    samples: list[int]
    stall_in: Optional[Stalls] = None  # random valid gaps on i_stream
    stall_out: Optional[Stalls] = None  # random low stretches of o_stream.ready
    cycles: str = "exact"  # "exact" | "lower_bound" | "none"
    timing: bool = False  # also hold every eos word to the cycle model's edge

    @classmethod
    def from_dict(cls, d: dict, where: str) -> "Phase":
        """A phase of a plan file; its stall settings checked (errors name `where` and the field)."""
        stalls = {k: None if d.get(k) is None else Stalls.from_dict(d[k], f"{where}.{k}") for k in ("stall_in", "stall_out")}
        return cls(**{**d, **stalls})


@dataclass
class ClearCase:
    """Interrupt sample `first` with `clear` (or `rst`), then run sample `second` from there:
    it must come out as from a fresh design. When: after `at` × its model cycles, then
    `trigger`: "time" (right then), "sweep" (2 cycles after the next input eos word: layer 0
    mid-sweep) or "tap<l>" (one cycle after layer l starts emitting: words in flight)."""

    first: int
    second: int
    at: float
    use_rst: bool = False
    trigger: str = "time"


@dataclass
class Plan:
    expect: str  # Expectations .npz
    manifest: str  # the design's manifest.json
    report: str  # report path stem; each cocotb test writes <stem>.<test>.json
    phases: list[Phase] = field(default_factory=list)
    clears: list[ClearCase] = field(default_factory=list)
    protocol: bool = False  # run `input_held_off_during_clear`

    def save(self, path: Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        return path

    @classmethod
    def load(cls, path: Path) -> "Plan":
        d = json.loads(Path(path).read_text())
        return cls(
            expect=d["expect"],
            manifest=d["manifest"],
            report=d["report"],
            phases=[Phase.from_dict(p, f"{path}: phases[{i}]") for i, p in enumerate(d.get("phases", []))],
            clears=[ClearCase(**c) for c in d.get("clears", [])],
            protocol=bool(d.get("protocol", False)),
        )

    @classmethod
    def from_env(cls) -> "Plan":
        path = os.environ.get(ENV)
        if not path:
            raise RuntimeError(f"${ENV} is not set: these cocotb tests are started by `pytest sim/` (sim/runner.py)")
        return cls.load(Path(path))

    def report_path(self, test: str) -> Path:
        return Path(f"{self.report}.{test}.json")
