"""Command line of the training stage (`python train/run.py --help`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Optional, Sequence


from train.config import TrainConfig
from train.contract import MEMBRANE_QUANTS, RESETS, WEIGHT_QUANTS, ContractError
from train.surrogate import SURROGATES


def _leak(text: str) -> Optional[int]:
    if text.lower() in ("none", "if", "0"):
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--leak takes a shift k ≥ 1 or 'none', got {text!r}") from None


def parser() -> argparse.ArgumentParser:
    d = TrainConfig()
    p = argparse.ArgumentParser(
        prog="python train/run.py",
        description="Train a Brevitas-quantized SNN and write runs/<name>/ (model.pt, config.json, metrics.json, curves.png, raster.png).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--dataset", default=d.dataset, help="saccade-digits | dvs-motions (embedded, generated offline) | nmnist | dvsgesture | ncars | shd | cifar10-dvs (need --data-dir)")
    p.add_argument("--data-dir", default=d.data_dir, help="dataset folder (nmnist: the folder holding Train/; dvsgesture: the DvsGesture folder; ncars: the folder holding n-cars_train/ and n-cars_test/; shd: the folder holding shd_train.h5 and shd_test.h5; cifar10-dvs: the folder holding airplane/ … truck/)")
    p.add_argument("--weights", default=d.weights, choices=WEIGHT_QUANTS, help="weight quantizer")
    p.add_argument("--membrane", default=d.membrane, choices=MEMBRANE_QUANTS, help="stored-membrane quantizer")
    p.add_argument("--leak", type=_leak, default=d.leak, help="leak shift k (β = 1 − 2^−k), or 'none' for IF")
    p.add_argument("--reset", default=d.reset, choices=RESETS)
    p.add_argument("--steps", type=int, default=d.steps, help="time steps T per sample")
    p.add_argument("--pool", type=int, default=None, help="spatial pooling factor of the input (default: the dataset's, 2 for N-MNIST, 4 for DVS128 and N-Cars, 1 for SHD)")
    p.add_argument("--hidden", type=int, nargs="+", default=d.hidden, help="hidden layer sizes")
    p.add_argument("--acc-bits", type=int, default=d.acc_bits, help="membrane accumulator width A")
    p.add_argument("--epochs", type=int, default=d.epochs)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--surrogate", default=d.surrogate, choices=SURROGATES)
    p.add_argument("--slope", type=float, default=d.slope, help="surrogate slope")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--test-fraction", type=float, default=d.test_fraction, help="held-out fraction when the dataset has no Test/ split")
    p.add_argument("--out", default=None, help="run folder (default runs/<dataset>-<weights>-<membrane>)")
    p.add_argument("--resume", action="store_true", help="continue from <out>/model.pt")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parser().parse_args(argv)
    try:
        cfg = TrainConfig(
            dataset=args.dataset, data_dir=args.data_dir, weights=args.weights, membrane=args.membrane,
            leak=args.leak, reset=args.reset, steps=args.steps, pool=args.pool, hidden=args.hidden,
            acc_bits=args.acc_bits, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
            surrogate=args.surrogate, slope=args.slope, seed=args.seed, test_fraction=args.test_fraction,
        )
        from train.pipeline import run_training

        out = Path(args.out) if args.out else Path("runs") / cfg.name
        metrics = run_training(cfg, out, resume=args.resume, progress=not args.quiet)
    except (ContractError, ValueError, FileNotFoundError) as err:
        print(f"error: {err}")
        return 2
    print(
        f"{out}: test accuracy {metrics['test_accuracy']:.4f}, golden {metrics['golden_test_accuracy']:.4f}, "
        f"{metrics['train_seconds']:.0f} s"
    )
    return 0
