"""A design point: P lanes and Q LIF units per layer, the one home of their defaults."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Optional

from snn2fpga.core.cli import positive_int

# The default design point of every command (rtl, lint, sim-batch, synth, bench): the
# LUT × latency optimum of `make bench` on the default network (docs/synth.md).
DEFAULT_LANES = 32
DEFAULT_UNITS: Optional[int] = 1  # None: one LIF unit per lane
ALL_UNITS = "all"  # how the command line asks for one LIF unit per lane


@dataclass(frozen=True)
class DesignPoint:
    """P lanes per layer and Q time-shared LIF units per layer (None: one per lane)."""

    lanes: int = DEFAULT_LANES
    units: Optional[int] = DEFAULT_UNITS

    def __post_init__(self) -> None:
        if not isinstance(self.lanes, int) or self.lanes < 1:
            raise ValueError(f"lanes P={self.lanes!r} must be a positive integer")
        if self.units is not None and (not isinstance(self.units, int) or self.units < 1):
            raise ValueError(f"units Q={self.units!r} must be a positive integer, or None for one per lane")

    @property
    def label(self) -> str:
        return f"P={self.lanes}, Q={ALL_UNITS if self.units is None else self.units}"


def layer_lanes(layer, lanes: int) -> int:
    """P_l: the lanes a layer gets of P, at most its output channels (conv) or neurons (dense); 1 for a pool."""
    if layer.kind == "pool":
        return 1
    return min(lanes, layer.out_shape.channels if layer.kind == "conv" else layer.n_out)


def units_arg(text: str) -> Optional[int]:
    """argparse type of --units: a positive integer, or 'all' (one LIF unit per lane)."""
    if text.strip().lower() == ALL_UNITS:
        return None
    try:
        return positive_int(text)
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"{exc} (or '{ALL_UNITS}': one LIF unit per lane)") from None


def add_point_arguments(parser: argparse.ArgumentParser) -> None:
    """--lanes/-P and --units/-Q, declared once for every command that builds hardware."""
    parser.add_argument("--lanes", "-P", type=positive_int, default=DEFAULT_LANES, help="lanes P per layer")
    parser.add_argument("--units", "-Q", type=units_arg, default=DEFAULT_UNITS,
                        help=f"LIF units per layer, time-shared over the lanes ('{ALL_UNITS}': one per lane)")


def point_of(args: argparse.Namespace) -> DesignPoint:
    return DesignPoint(args.lanes, args.units)
