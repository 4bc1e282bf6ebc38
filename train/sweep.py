"""`python -m snn2fpga.train.sweep`: test accuracy over weight × membrane quantizers (README "Results")."""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

from snn2fpga.train.config import TrainConfig
from snn2fpga.train.pipeline import run_training
from snn2fpga.core.files import write_json

WEIGHTS = ("binary", "ternary", "int4", "int8")
MEMBRANES = ("ternary", "int8", "full")


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m snn2fpga.train.sweep", description=__doc__)
    p.add_argument("--dataset", default="saccade-digits")
    p.add_argument("--epochs", type=int, default=TrainConfig().epochs)
    p.add_argument("--out", default="runs/sweep")
    args = p.parse_args()
    out = Path(args.out)
    results = json.loads((out / "results.json").read_text()) if (out / "results.json").exists() else {}
    for w, m in itertools.product(WEIGHTS, MEMBRANES):
        key = f"{w}/{m}"
        if key in results:
            continue
        cfg = TrainConfig(dataset=args.dataset, weights=w, membrane=m, epochs=args.epochs)
        metrics = run_training(cfg, out / f"{w}-{m}", progress=False, overwrite=True)  # the sweep owns these runs
        results[key] = {k: metrics[k] for k in ("test_accuracy", "golden_test_accuracy", "train_seconds", "thresholds")}
        write_json(out / "results.json", results)
        print(f"{key}: test {metrics['test_accuracy']:.4f} golden {metrics['golden_test_accuracy']:.4f} ({metrics['train_seconds']:.0f} s)", flush=True)
    rows = ["| weights \\ membrane | " + " | ".join(MEMBRANES) + " |", "|---|" + "---|" * len(MEMBRANES)]
    for w in WEIGHTS:
        rows.append(f"| {w} | " + " | ".join(f"{100 * results[f'{w}/{m}']['test_accuracy']:.1f} %" for m in MEMBRANES) + " |")
    (out / "table.md").write_text("\n".join(rows) + "\n")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
