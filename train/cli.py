"""The `train` command (`snn2fpga train`, `python train/run.py`): arguments and what it runs."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Optional, Sequence

from snn2fpga.core.cli import EXIT_USAGE, Command, fraction, natural_int, positive_float, positive_int, run_alone
from snn2fpga.core.contract import MEMBRANE_QUANTS, RESETS, WEIGHT_QUANTS
from snn2fpga.core.paths import RUNS
from snn2fpga.train.config import TrainConfig
from snn2fpga.train.device import DEVICES
from snn2fpga.train.methods import LOSSES, METHODS
from snn2fpga.train.trainer import CHECKPOINT
from snn2fpga.train.surrogate import SURROGATES


def _leak(text: str) -> Optional[int]:
    if text.lower() in ("none", "if", "0"):
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"takes a shift k ≥ 1 or 'none', got {text!r}")
    return value


def _test_fraction(text: str) -> float:
    value = fraction(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be in (0, 1), got 0")
    return value


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The training options; every default comes from TrainConfig."""
    d = TrainConfig()
    p.add_argument("--dataset", default=d.dataset, help="saccade-digits | static-digits (rate-coded 8×8 digits) | dvs-motions (embedded, generated offline) | nmnist | dvsgesture | ncars | shd | cifar10-dvs (need --data-dir)")
    p.add_argument("--data-dir", default=d.data_dir, help="dataset folder (nmnist: the folder holding Train/; dvsgesture: the DvsGesture folder; ncars: the folder holding n-cars_train/ and n-cars_test/; shd: the folder holding shd_train.h5 and shd_test.h5; cifar10-dvs: the folder holding airplane/ … truck/)")
    p.add_argument("--weights", default=d.weights, choices=WEIGHT_QUANTS, help="weight quantizer")
    p.add_argument("--membrane", default=d.membrane, choices=MEMBRANE_QUANTS, help="stored-membrane quantizer")
    p.add_argument("--leak", type=_leak, default=d.leak, help="leak shift k (β = 1 − 2^−k), or 'none' for IF")
    p.add_argument("--reset", default=d.reset, choices=RESETS)
    p.add_argument("--steps", type=positive_int, default=d.steps, help="time steps T per sample")
    p.add_argument("--pool", type=positive_int, default=None, help="spatial pooling factor of the input (default: the dataset's, 2 for N-MNIST, 4 for DVS128 and N-Cars, 1 for SHD)")
    p.add_argument("--hidden", type=positive_int, nargs="+", default=d.hidden, help="hidden layer sizes (dense layers; ignored with --arch)")
    p.add_argument("--arch", default=d.arch, help="convolutional architecture, tokens joined by '-' from the input, e.g. "
                   "12c5-p2-32c3-p2-fc128: <C>c<K>[x<Kw>][s<S>][p<P>] a conv of C channels, K×K kernel, stride S, zero "
                   "padding P; p<k> an OR-pool over k×k windows (stride k); fc<N> a dense layer of N neurons. The output "
                   "layer (one neuron per class) is appended. The input map is polarities × rows × columns after --pool. "
                   "No batch norm is offered (docs/contract.md): biases (--bias) and thresholds are learned directly")
    p.add_argument("--layer", dest="layers", action="append", default=[], metavar="L:KEY=VALUE[,…]",
                   help="per-layer setting, repeatable: L is a LIF layer, 1-based (pools are not counted), 'first' or "
                   "'last' (the output layer); keys weights, membrane, leak (k or 'none'), reset; e.g. "
                   "--layer first:weights=int8 --layer last:weights=int8,membrane=full")
    p.add_argument("--bias", action="store_true", default=d.bias, help="a learnable integer bias per neuron (per output channel of a conv)")
    p.add_argument("--acc-bits", type=positive_int, default=d.acc_bits, help="membrane accumulator width A")
    p.add_argument("--epochs", type=positive_int, default=d.epochs)
    p.add_argument("--batch-size", type=positive_int, default=d.batch_size)
    p.add_argument("--lr", type=positive_float, default=d.lr)
    p.add_argument("--surrogate", default=d.surrogate, choices=SURROGATES)
    p.add_argument("--slope", type=positive_float, default=d.slope, help="surrogate slope")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--test-fraction", type=_test_fraction, default=d.test_fraction, help="held-out fraction when the dataset has no Test/ split")
    p.add_argument("--method", default=d.method, choices=METHODS, help="bptt: surrogate BPTT; cbp: constrained backprop "
                   "(binary/ternary weights); hybrid: quantized ReLU ANN → IF/subtract SNN → STDB fine-tune (--leak none)")
    p.add_argument("--loss", default=d.loss, choices=LOSSES, help="count: cross-entropy of spike counts; tet: mean over steps (TET)")
    p.add_argument("--activity", type=float, default=d.activity, help="λ of the hidden spike-count penalty (lowers predicted cycles)")
    p.add_argument("--cbp-lr-lambda", type=positive_float, default=d.cbp_lr_lambda, help="CBP multiplier ascent step")
    p.add_argument("--cbp-period", type=positive_int, default=d.cbp_period, help="CBP: narrow the window at least every N epochs")
    p.add_argument("--ann-epochs", type=positive_int, default=d.ann_epochs, help="hybrid: ANN training epochs")
    p.add_argument("--balance", type=positive_float, default=d.balance, help="hybrid: threshold-balancing percentile (100 = max)")
    p.add_argument("--prune", type=float, default=d.prune, help="λ of the L1 penalty on learned hidden-neuron gates; "
                   "closed gates' neurons are removed after training (binary/ternary weights)")
    p.add_argument("--out", default=None, help="run folder (default runs/<dataset>-<weights>-<membrane>)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true", help="continue the run in --out from its model.pt (same settings)")
    mode.add_argument("--overwrite", action="store_true", help="replace a trained run in --out")
    p.add_argument("--device", default="cpu", choices=DEVICES, help="where to train: cpu, cuda, or auto (cuda when a GPU is "
                   "present); the golden check and export always run on the CPU")
    p.add_argument("--workers", type=natural_int, default=0, help="DataLoader worker processes that read and unpack batches")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    """Train per the arguments; print the run folder, the accuracies and the time."""
    cfg = TrainConfig(
        dataset=args.dataset, data_dir=args.data_dir, weights=args.weights, membrane=args.membrane,
        leak=args.leak, reset=args.reset, steps=args.steps, pool=args.pool, hidden=args.hidden, arch=args.arch,
        layers=args.layers, bias=args.bias,
        acc_bits=args.acc_bits, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        surrogate=args.surrogate, slope=args.slope, seed=args.seed, test_fraction=args.test_fraction,
        method=args.method, loss=args.loss, activity=args.activity, cbp_lr_lambda=args.cbp_lr_lambda,
        cbp_period=args.cbp_period, ann_epochs=args.ann_epochs, balance=args.balance, prune=args.prune,
    )
    from snn2fpga.train.distributed import leave, placement
    from snn2fpga.train.pipeline import run_training

    out = Path(args.out) if args.out else RUNS / cfg.name
    try:
        place = placement(args.device, cfg.batch_size)  # under torchrun: joins the process group
    except ValueError:
        if int(os.environ.get("RANK", "0")) != 0:
            return EXIT_USAGE  # every torchrun process refuses; rank 0 alone says why, in one line
        raise
    try:
        metrics = run_training(cfg, out, resume=args.resume, progress=not args.quiet, overwrite=args.overwrite,
                               place=place, workers=args.workers)
    except KeyboardInterrupt:
        ckpt = out / CHECKPOINT
        where = f"the last checkpoint is {ckpt}; continue with --resume" if ckpt.exists() else "no checkpoint was written"
        raise KeyboardInterrupt(where) from None
    finally:
        leave(place)
    if not place.main:
        return 0
    print(
        f"{out}: test accuracy {metrics['test_accuracy']:.4f}, golden {metrics['golden_test_accuracy']:.4f}, "
        f"{metrics['train_seconds']:.0f} s"
    )
    return 0


COMMAND = Command("train", "Train a Brevitas-quantized SNN, check it against the golden model, write runs/<name>/ "
                  "(on many processes: torchrun --nproc-per-node N train/run.py …).",
                  add_arguments, run)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """`python train/run.py`: the train command on its own."""
    return run_alone(COMMAND, argv, "python train/run.py")
