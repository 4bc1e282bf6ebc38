"""The benchmark's arithmetic: latency, throughput, synaptic operations, the comparison
with the published designs. Pure functions of cycle counts, synaptic operations (`rtl.synaptic_ops`) and Fmax, so the
tests check them on hand-computed numbers (tests/test_synth_bench.py); definitions in
synth/bench.py and docs/synth.md.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Optional, Sequence

import numpy as np

from snn2fpga.synth.points import CycleStats, Latency, PointMetrics

# Published figures, quoted as the issue gives them (other networks, datasets and devices).
PUBLISHED = {
    "Spiker+": {"task": "MNIST", "network": "784-128-10", "logic_cells": 7612, "bram": 18, "latency_us": 780.0},
    "Flexi-NeurA": {"task": "—", "network": "256-128-10", "logic_cells": 1623, "bram": 7, "latency_us": 1100.0},
}
AIM_FACTOR = 20  # LUT × latency at least 20× below Spiker+'s


# ---- the arithmetic (hand-checkable; tests/test_synth_bench.py) -------------------------------
def latency_us(cycles, fmax_mhz: float):
    """Cycles at Fmax (MHz) → microseconds."""
    if fmax_mhz is None or fmax_mhz <= 0:
        raise ValueError(f"Fmax must be a positive frequency in MHz, got {fmax_mhz!r}")
    return np.asarray(cycles, dtype=np.float64) / fmax_mhz


def samples_per_second(mean_cycles: float, fmax_mhz: float, clear_cycles: int) -> float:
    """Back-to-back samples: each costs its cycles, a one-cycle `clear` pulse and the clearing sweep."""
    if fmax_mhz is None or fmax_mhz <= 0:
        raise ValueError(f"Fmax must be a positive frequency in MHz, got {fmax_mhz!r}")
    return fmax_mhz * 1e6 / (mean_cycles + 1 + clear_cycles)


def cycle_stats(cycles) -> CycleStats:
    """mean, p50, p99 (nearest rank: a cycle count some sample really took), min, max."""
    c = np.asarray(cycles, dtype=np.int64)
    if c.size == 0:
        raise ValueError("no samples")
    return CycleStats(float(c.mean()), int(np.percentile(c, 50, method="higher")),
                      int(np.percentile(c, 99, method="higher")), int(c.min()), int(c.max()))


def lane_bound(layer_lanes: Sequence[int]) -> int:
    """Synaptic operations a cycle if the widest layer's lanes (P_l, `rtl.point.layer_lanes`) were busy every cycle."""
    return max(layer_lanes)


def point_metrics(cycles, sops, fmax_mhz: Optional[float], layer_lanes: Sequence[int],
                  clear_cycles: int, lut: Optional[int]) -> PointMetrics:
    """Latency / throughput / SOP figures of one design point (cycles and SOPs per test sample)."""
    stats = cycle_stats(cycles)
    sops = np.asarray(sops, dtype=np.float64)
    sop_per_cycle = float(sops.sum() / np.asarray(cycles, dtype=np.float64).sum())
    bound = lane_bound(layer_lanes)
    base = PointMetrics(cycles=stats, sop_per_sample=float(sops.mean()), sop_per_cycle=round(sop_per_cycle, 3),
                        lane_bound=bound, lane_efficiency=round(sop_per_cycle / bound, 4),
                        cycles_at_bound=float(sops.mean() / bound))
    if not fmax_mhz:
        return base
    lat = latency_us(cycles, fmax_mhz)
    latency = Latency(round(float(lat.mean()), 3), round(stats.p99 / fmax_mhz, 3), round(stats.max / fmax_mhz, 3))
    return replace(base, latency_us=latency,
                   samples_per_s=round(samples_per_second(stats.mean, fmax_mhz, clear_cycles), 1),
                   latency_at_bound_us=round(base.cycles_at_bound / fmax_mhz, 3),
                   lut_x_latency=None if lut is None else round(lut * latency.mean, 1))


def spiker_comparison(lut_x_latency: float) -> dict:
    """How the measured LUT × latency compares with Spiker+'s and with the aim (20× below)."""
    ref = PUBLISHED["Spiker+"]["logic_cells"] * PUBLISHED["Spiker+"]["latency_us"]
    aim = ref / AIM_FACTOR
    return {
        "spiker_lut_x_latency": ref,
        "aim_lut_x_latency": aim,
        "measured_lut_x_latency": lut_x_latency,
        "times_below_spiker": round(ref / lut_x_latency, 2),
        "meets_aim": lut_x_latency <= aim,
        "margin_vs_aim": round(aim / lut_x_latency, 2),  # > 1: better than the aim by this factor
    }



def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats in both coordinates (lower is better)."""
    front = []
    for i, (a, b) in enumerate(points):
        if not any((c <= a and d <= b) and (c < a or d < b) for j, (c, d) in enumerate(points) if j != i):
            front.append(i)
    return front
