"""`snn2fpga train-bench` (`python -m snn2fpga.train.bench`): one training step of this project against snnTorch's.

Both networks have the same shape (N_in-hidden-classes), batch, T, optimizer (Adam) and
loss (cross-entropy on output spike counts); the bench times forward + backward + step,
alternating rounds so both see the same machine load, and prints the ratio of the median
step times (project / snnTorch; below 1 means this project is faster). snnTorch is the
optional extra `bench` (`pip install .[bench]`).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from snn2fpga.core.cli import Command, positive_int, run_alone
from snn2fpga.train.config import TrainConfig
from snn2fpga.train.device import DEVICES, resolve_device
from snn2fpga.train.model import QuantSNN

SHAPES = ("578-128-10", "2048-128-8")  # saccade-digits / N-MNIST pool 2, dvs-motions pool 4


@dataclass(frozen=True)
class BenchResult:
    """Median seconds per training step of each network at one shape, and their ratio."""

    shape: str
    project_s: float
    snntorch_s: float

    @property
    def ratio(self) -> float:
        return self.project_s / self.snntorch_s


def parse_shape(text: str) -> list[int]:
    """argparse type: layer sizes 'N_in-H-…-classes', at least two, all ≥ 1."""
    try:
        sizes = [int(part) for part in text.split("-")]
    except ValueError:
        sizes = []
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected layer sizes like 578-128-10, got {text!r}")
    return sizes


class SnnTorchMLP(nn.Module):
    """The same network in snnTorch: Linear → Leaky per layer, stepped over T, output spike counts."""

    def __init__(self, sizes: list[int], beta: float) -> None:
        super().__init__()
        import snntorch as snn
        from snntorch import surrogate

        self.fcs = nn.ModuleList(nn.Linear(a, b, bias=False) for a, b in zip(sizes[:-1], sizes[1:]))
        self.lifs = nn.ModuleList(snn.Leaky(beta=beta, spike_grad=surrogate.fast_sigmoid(slope=5)) for _ in self.fcs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mems = [lif.init_leaky() for lif in self.lifs]
        count = 0
        for t in range(x.shape[1]):
            h = x[:, t]
            for i, (fc, lif) in enumerate(zip(self.fcs, self.lifs)):
                h, mems[i] = lif(fc(h), mems[i])
            count = count + h
        return count


def _step_fn(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> Callable[[], None]:
    """One Adam training step of `model` on (x, y)."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step() -> None:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def _time(step: Callable[[], None], steps: int, device: torch.device) -> float:
    """Seconds per step over `steps` steps (synchronised on CUDA)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return (time.perf_counter() - t0) / steps


def bench_shape(sizes: list[int], batch: int, steps_t: int, rounds: int, steps: int, device: torch.device) -> BenchResult:
    """Time both networks at one shape, alternating `rounds` rounds of `steps` steps each."""
    gen = torch.Generator().manual_seed(0)
    x = (torch.rand(batch, steps_t, sizes[0], generator=gen) < 0.1).float().to(device)
    y = torch.randint(0, sizes[-1], (batch,), generator=gen).to(device)
    torch.manual_seed(0)
    cfg = TrainConfig(hidden=sizes[1:-1], steps=steps_t, batch_size=batch)
    ours = QuantSNN(sizes[0], sizes[-1], cfg).to(device)
    ours.calibrate(x, cfg.fire_rate)
    theirs = SnnTorchMLP(sizes, beta=1.0 - 2.0 ** -cfg.leak).to(device)
    runs = {"project": _step_fn(ours.train(), x, y), "snntorch": _step_fn(theirs.train(), x, y)}
    times: dict[str, list[float]] = {name: [] for name in runs}
    for name, step in runs.items():  # warm-up: allocator, Adam state, first-call overheads
        _time(step, 2, device)
    for _ in range(rounds):
        for name, step in runs.items():
            times[name].append(_time(step, steps, device))
    shape = "-".join(map(str, sizes))
    return BenchResult(shape, statistics.median(times["project"]), statistics.median(times["snntorch"]))


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--shape", type=parse_shape, nargs="+", default=[parse_shape(s) for s in SHAPES], help="layer sizes, N_in-hidden…-classes")
    p.add_argument("--batch-size", type=positive_int, default=TrainConfig.batch_size)
    p.add_argument("--steps", type=positive_int, default=TrainConfig.steps, help="time steps T")
    p.add_argument("--rounds", type=positive_int, default=5, help="alternating rounds per shape")
    p.add_argument("--iters", type=positive_int, default=20, help="training steps per round")
    p.add_argument("--device", default="cpu", choices=DEVICES)
    p.add_argument("--threads", type=positive_int, default=None, help="torch CPU threads (default: torch's own choice)")


def run(args: argparse.Namespace) -> int:
    try:
        import snntorch  # noqa: F401  (only to say clearly when the optional extra is missing)
    except ImportError:
        raise ValueError("train-bench needs snnTorch: pip install 'snn2fpga[bench]' (or pip install snntorch)") from None
    device = resolve_device(args.device)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    print(f"device {device}, torch threads {torch.get_num_threads()}, batch {args.batch_size}, T {args.steps}, "
          f"{args.rounds} rounds × {args.iters} steps, median ms per step")
    print(f"{'shape':>14} {'project':>9} {'snnTorch':>9} {'ratio':>6}")
    for sizes in args.shape:
        r = bench_shape(sizes, args.batch_size, args.steps, args.rounds, args.iters, device)
        print(f"{r.shape:>14} {r.project_s * 1e3:9.2f} {r.snntorch_s * 1e3:9.2f} {r.ratio:6.2f}")
    return 0


COMMAND = Command("train-bench", "Time one training step of this project's SNN against snnTorch's of the same shape.",
                  add_arguments, run)


def main(argv: Optional[Sequence[str]] = None) -> int:
    return run_alone(COMMAND, argv, "python -m snn2fpga.train.bench")


if __name__ == "__main__":
    raise SystemExit(main())
