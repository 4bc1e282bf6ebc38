"""Random stalls of a valid/ready stream: one setting for the amaranth.sim testbenches
(rtl/testbench.py), the cocotb ones (sim/bench.py) and the plan JSON between them (sim/plan.py).

Pure Python, so the cocotb side imports it without Amaranth. Each testbench draws the gaps
from its own random generator seeded with `seed`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from snn2fpga.core.records import Fields


@dataclass(frozen=True)
class Stalls:
    """Before a word (producer) or per stretch of ready (consumer), with probability `rate`,
    a gap of 1..`max_gap` cycles; `seed` seeds the testbench's random generator."""

    rate: float = 0.0
    max_gap: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        _check(Fields.of(asdict(self), repr(self), "stalls"))

    @property
    def active(self) -> bool:
        return self.rate > 0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: object, where: str = "stalls") -> "Stalls":
        """Check a {"rate", "max_gap", "seed"} object read from `where` (named in the errors)."""
        return cls(*_check(Fields.of(data, where, "stalls")))


def _check(f: Fields) -> tuple[float, int, int]:
    return f.number("rate", 0.0, 1.0), f.integer("max_gap", 1), f.integer("seed")
