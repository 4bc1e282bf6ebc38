"""`python -m snn2fpga.train.seeds`: one configuration over several seeds, mean and spread (README "Results").

Accuracy depends on the seed and, through the order of float sums, on the torch thread
count and the CPU's instruction set; the report records both, so a figure says what it
was measured with. Results: runs/seeds/<dataset>-<weights>-<membrane>.json.
"""

from __future__ import annotations

import argparse
import platform
import statistics
from pathlib import Path

import torch

from snn2fpga.core.files import write_json
from snn2fpga.train.config import TrainConfig
from snn2fpga.train.pipeline import run_training

FIGURES = ("test_accuracy", "golden_test_accuracy", "train_seconds")


def spread(values: list[float]) -> dict:
    """Mean, sample standard deviation, min and max."""
    return {"mean": statistics.fmean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values), "max": max(values)}


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m snn2fpga.train.seeds", description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default=TrainConfig().dataset)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=TrainConfig().epochs)
    p.add_argument("--out", type=Path, default=Path("runs/seeds"))
    args = p.parse_args()
    runs = []
    for seed in args.seeds:
        cfg = TrainConfig(dataset=args.dataset, data_dir=args.data_dir, seed=seed, epochs=args.epochs)
        metrics = run_training(cfg, args.out / f"{cfg.name}-s{seed}", progress=False, overwrite=True)  # owns these runs
        runs.append({"seed": seed, **{k: metrics[k] for k in FIGURES}})
        print(f"seed {seed}: test {metrics['test_accuracy']:.4f} golden {metrics['golden_test_accuracy']:.4f} "
              f"({metrics['train_seconds']:.0f} s)", flush=True)
    report = {
        "config": {**vars(args), "out": str(args.out)},
        "torch_threads": torch.get_num_threads(),
        "cpu": {"machine": platform.machine(), "processor": platform.processor(), "torch_cpu_capability": torch.backends.cpu.get_cpu_capability()},
        "runs": runs,
        **{k: spread([r[k] for r in runs]) for k in FIGURES},
    }
    write_json(args.out / f"{args.dataset}-{cfg.weights}-{cfg.membrane}.json", report)
    t, g = report["test_accuracy"], report["golden_test_accuracy"]
    print(f"{args.dataset}: test {100 * t['mean']:.1f} ± {100 * t['std']:.1f} % (min {100 * t['min']:.1f}, max {100 * t['max']:.1f}), "
          f"golden {100 * g['mean']:.1f} ± {100 * g['std']:.1f} %, over seeds {args.seeds}, {report['torch_threads']} torch threads, "
          f"CPU {report['cpu']['torch_cpu_capability']}")


if __name__ == "__main__":
    main()
