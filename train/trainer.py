"""The training loop: BPTT on spike counts, atomic per-epoch checkpoints, exact resume."""

from __future__ import annotations

import csv
import io
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from snn2fpga.core.files import atomic_write, write_bytes, write_text
from snn2fpga.train.config import TrainConfig
from snn2fpga.train.data.packed import PackedSpikes
from snn2fpga.train.distributed import Placement, per_process_batch
from snn2fpga.train.loader import train_loader
from snn2fpga.train.methods.cost import evaluate_cost
from snn2fpga.train.methods.objective import Objective
from snn2fpga.train.model import QuantSNN
from snn2fpga.train.progress import bar as progress_bar

CHECKPOINT = "model.pt"
BEST_CHECKPOINT = "model-best.pt"  # the epoch with the highest test accuracy so far, beside the last one
METRICS_CSV = "metrics.csv"  # one row per epoch


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, or that holds more than tensors and plain data; names the file."""


def read_checkpoint(path: Path) -> dict:
    """A checkpoint's contents, loaded with `weights_only=True`: tensors and plain data only, so a
    file from elsewhere cannot run code; an empty, truncated or foreign file is a CheckpointError."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no checkpoint; train first with `snn2fpga train --out {path.parent}`")
    try:
        state = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, EOFError… for bad files
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path}: not a readable snn2fpga checkpoint ({reason})") from None
    if not isinstance(state, dict) or not {"model", "epoch", "meta"} <= set(state):
        raise CheckpointError(f"{path}: not an snn2fpga checkpoint (no model, epoch and meta entries)")
    return state


def _cpu(state: object) -> object:
    """A state dict with every tensor on the CPU, so a GPU-trained checkpoint loads anywhere."""
    if isinstance(state, torch.Tensor):
        return state.detach().cpu()
    if isinstance(state, dict):
        return {k: _cpu(v) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(_cpu(v) for v in state)
    return state


def save_checkpoint(path: Path, model: QuantSNN, opt: torch.optim.Optimizer, sched, epoch: int, history: list, meta: dict,
                    method: Optional[dict] = None) -> None:
    """Everything needed to resume bit-exactly after `epoch` complete epochs (tensors on the CPU)."""
    state = {
        "method": _cpu(method or {}),
        "model": _cpu(model.state_dict()),
        "optimizer": _cpu(opt.state_dict()),
        "scheduler": sched.state_dict(),
        "epoch": epoch,
        "history": history,
        "meta": meta,
    }
    atomic_write(path, lambda tmp: torch.save(state, tmp))


def history_csv(history: list[dict]) -> str:
    """Per-epoch metrics as CSV text (a header, then one row per epoch)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(history[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    return out.getvalue()


def evaluate(model: QuantSNN, x: np.ndarray, y: np.ndarray, batch_size: int = 256) -> tuple[float, np.ndarray]:
    """Accuracy and predictions of the fake-quantized model on its device (argmax of counts, ties low)."""
    model.eval()
    device = next(model.parameters()).device
    preds = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            counts = model(torch.from_numpy(np.asarray(x[i : i + batch_size])).to(device).float())
            preds.append(torch.argmax(counts, dim=1).cpu().numpy())
    pred = np.concatenate(preds) if preds else np.zeros(0, np.int64)
    return float((pred == y).mean()) if len(y) else 0.0, pred


def train_model(
    cfg: TrainConfig,
    train: PackedSpikes,
    test_x: np.ndarray,
    test_y: np.ndarray,
    n_classes: int,
    out: Path,
    resume: bool = False,
    on_batch: Optional[Callable[[int, int], None]] = None,
    progress: bool = True,
    place: Placement = Placement(torch.device("cpu")),
    workers: int = 0,
    model: Optional[QuantSNN] = None,
) -> tuple[QuantSNN, list[dict], float]:
    """Train (or resume) and return the model (on the CPU), per-epoch history and training seconds.

    The DistributedSampler shuffles with (seed, epoch), so a resumed run sees the same
    batches as an uninterrupted one and ends with the same weights. Under torchrun every
    process trains on its shard of each epoch (DDP averages the gradients) and rank 0
    alone evaluates and writes the checkpoint. `model` starts from given weights and
    thresholds (fine-tuning an imported network) instead of a fresh, calibrated QuantSNN.
    """
    torch.manual_seed(cfg.seed)
    given = model is not None
    model = model if given else QuantSNN(train.n_in, n_classes, cfg)
    ckpt = Path(out) / CHECKPOINT
    start, history, seconds, state = 0, [], 0.0, None
    if resume:
        state = read_checkpoint(ckpt)
        if place.main:
            print(f"resuming from epoch {state['epoch']} ({ckpt})")
        model.load_state_dict(state["model"])
        start, history = state["epoch"], state["history"]
        seconds = state["meta"].get("train_seconds", 0.0)
    elif not given:
        model.calibrate(torch.from_numpy(train.spikes(np.arange(min(256, len(train))))).float(), cfg.fire_rate)
    model.to(place.device)
    if place.world == 1:
        net = model
    else:
        net = DistributedDataParallel(model, device_ids=[place.device.index] if place.device.type == "cuda" else None)
    objective = Objective(cfg, model)  # after .to(device): CBP's multipliers live beside the weights
    if state is not None:
        objective.load_state_dict(state.get("method", {}))
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs)
    if state is not None:
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
    loader, sampler = train_loader(train, per_process_batch(cfg.batch_size, place.world), place, cfg.seed, workers)

    for epoch in range(start, cfg.epochs):
        t0 = time.perf_counter()
        net.train()
        sampler.set_epoch(epoch)
        bar = progress_bar(loader, progress and place.main, desc=f"epoch {epoch + 1}/{cfg.epochs}", leave=False)
        loss_sum = torch.zeros((), device=place.device)
        correct = torch.zeros((), device=place.device, dtype=torch.int64)
        seen = 0
        for b_idx, (xb, yb) in enumerate(bar):
            if on_batch is not None:
                on_batch(epoch, b_idx)
            xb = xb.to(place.device, non_blocking=True).float()
            yb = yb.to(place.device, non_blocking=True)
            loss, counts = objective.loss(net(xb, all_layers=True) if objective.wants_layers else net(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += loss.detach() * len(yb)  # summed on the device: no host sync per batch
            correct += (counts.argmax(1) == yb).sum()
            seen += len(yb)
            if bar.disable is False and b_idx % 10 == 0:  # a host sync, so only every 10th batch
                bar.set_postfix(loss=f"{float(loss_sum) / seen:.3f}", acc=f"{int(correct) / seen:.3f}")
        sched.step()
        loss_total, correct_total, seen_total = place.sum([float(loss_sum), float(correct), float(seen)])
        extra = objective.end_epoch(loss_total / seen_total)
        cost = evaluate_cost(model, test_x, test_y) if place.main else {"accuracy": 0.0, "predicted_cycles": 0.0}
        test_acc = cost["accuracy"]
        seconds += time.perf_counter() - t0
        history.append({"epoch": epoch + 1, "train_loss": loss_total / seen_total, "train_accuracy": correct_total / seen_total,
                        "test_accuracy": test_acc, "predicted_cycles": cost["predicted_cycles"], **extra})
        if place.main:
            if progress:
                tqdm.write(f"epoch {epoch + 1}/{cfg.epochs}: loss {loss_total / seen_total:.4f}  "
                           f"train {correct_total / seen_total:.4f}  test {test_acc:.4f}  "
                           f"cycles/sample {cost['predicted_cycles']:.0f}")
            meta = {"config": asdict(cfg), "n_in": train.n_in, "n_classes": n_classes, "train_seconds": seconds}
            save_checkpoint(ckpt, model, opt, sched, epoch + 1, history, meta, objective.state_dict())
            if test_acc >= max(h["test_accuracy"] for h in history):
                write_bytes(ckpt.with_name(BEST_CHECKPOINT), ckpt.read_bytes())
            write_text(ckpt.with_name(METRICS_CSV), history_csv(history))
    return model.cpu().eval(), history, seconds


def load_model(run_dir: Path) -> tuple[QuantSNN, TrainConfig]:
    """Rebuild a trained model from `runs/<name>/` (config.json + model.pt)."""
    run_dir = Path(run_dir)
    ckpt = run_dir / CHECKPOINT
    state = read_checkpoint(ckpt)
    cfg = TrainConfig(**state["meta"]["config"])
    model = QuantSNN(state["meta"]["n_in"], state["meta"]["n_classes"], cfg)
    model.load_state_dict(state["model"])
    model.eval()
    return model, cfg
