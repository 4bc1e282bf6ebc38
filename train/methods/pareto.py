"""Accuracy against predicted cycles per sample of finished runs: a table and a scatter (the sparsity Pareto plot).

`python -m snn2fpga.train.methods.pareto OUT.png runs/a runs/b …` reads each run's metrics.json
(`golden_test_accuracy`, `predicted_cycles`, the `--activity` / `--prune` settings).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from snn2fpga.train.plots import _save, plt


def points(runs: list[Path]) -> list[dict]:
    """One row per run: its name, λ settings, golden accuracy and mean predicted cycles per test sample."""
    rows = []
    for run in runs:
        m = json.loads((Path(run) / "metrics.json").read_text())
        cycles = m.get("predicted_cycles", m["history"][-1]["predicted_cycles"])
        rows.append({"run": Path(run).name, "activity": m["config"].get("activity", 0.0), "prune": m["config"].get("prune", 0.0),
                     "hidden": m["config"]["hidden"], "accuracy": m["golden_test_accuracy"], "cycles": cycles})
    return rows


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: python -m snn2fpga.train.methods.pareto OUT.png RUN_DIR …", file=sys.stderr)
        return 2
    rows = points([Path(a) for a in argv[1:]])
    print("| run | --activity | --prune | hidden | golden accuracy | predicted cycles / sample |\n|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['run']} | {r['activity']:g} | {r['prune']:g} | {r['hidden']} | {100 * r['accuracy']:.1f} % | {r['cycles']:.0f} |")
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.plot([r["cycles"] for r in rows], [100 * r["accuracy"] for r in rows], "o")
    for r in rows:
        ax.annotate(r["run"], (r["cycles"], 100 * r["accuracy"]), fontsize=7)
    ax.set(xlabel="predicted cycles per sample (rtl cycle model, P = 32)", ylabel="golden test accuracy (%)")
    _save(fig, Path(argv[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
