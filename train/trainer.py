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
from torch.nn import functional as F
from tqdm import tqdm

from snn2fpga.train.progress import bar as progress_bar

from snn2fpga.train.config import TrainConfig
from snn2fpga.core.files import atomic_write, write_bytes, write_text
from snn2fpga.train.model import QuantSNN

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
        state = torch.load(path, weights_only=True)
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, EOFError… for bad files
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path}: not a readable snn2fpga checkpoint ({reason})") from None
    if not isinstance(state, dict) or not {"model", "epoch", "meta"} <= set(state):
        raise CheckpointError(f"{path}: not an snn2fpga checkpoint (no model, epoch and meta entries)")
    return state


def save_checkpoint(path: Path, model: QuantSNN, opt: torch.optim.Optimizer, sched, epoch: int, history: list, meta: dict) -> None:
    """Everything needed to resume bit-exactly after `epoch` complete epochs."""
    state = {
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
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
    """Accuracy and predictions of the fake-quantized model (argmax of counts, ties low)."""
    model.eval()
    preds = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            counts = model(torch.from_numpy(x[i : i + batch_size]).float())
            preds.append(torch.argmax(counts, dim=1).numpy())
    pred = np.concatenate(preds) if preds else np.zeros(0, np.int64)
    return float((pred == y).mean()) if len(y) else 0.0, pred


def train_model(
    cfg: TrainConfig,
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    n_classes: int,
    out: Path,
    resume: bool = False,
    on_batch: Optional[Callable[[int, int], None]] = None,
    progress: bool = True,
    model: Optional[QuantSNN] = None,
) -> tuple[QuantSNN, list[dict], float]:
    """Train (or resume) and return the model, per-epoch history and training seconds.

    `model` starts from given weights and thresholds (fine-tuning an imported network)
    instead of a fresh, calibrated QuantSNN.

    Shuffling uses a generator seeded by (seed, epoch), so a resumed run sees the same
    batches as an uninterrupted one and ends with the same weights.
    """
    torch.manual_seed(cfg.seed)
    given = model is not None
    model = model if given else QuantSNN(train_x.shape[2], n_classes, cfg)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs)
    ckpt = Path(out) / CHECKPOINT
    start, history, seconds = 0, [], 0.0
    if resume:
        state = read_checkpoint(ckpt)
        print(f"resuming from epoch {state['epoch']} ({ckpt})")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        start, history = state["epoch"], state["history"]
        seconds = state["meta"].get("train_seconds", 0.0)
    elif not given:
        calib = torch.from_numpy(train_x[: min(256, len(train_x))]).float()
        model.calibrate(calib, cfg.fire_rate)

    for epoch in range(start, cfg.epochs):
        t0 = time.perf_counter()
        model.train()
        gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + epoch)
        order = torch.randperm(len(train_x), generator=gen).numpy()
        bar = progress_bar(range(0, len(order), cfg.batch_size), progress, desc=f"epoch {epoch + 1}/{cfg.epochs}", leave=False)
        loss_sum, correct, seen = 0.0, 0, 0
        for b_idx, i in enumerate(bar):
            if on_batch is not None:
                on_batch(epoch, b_idx)
            idx = order[i : i + cfg.batch_size]
            xb = torch.from_numpy(train_x[idx]).float()
            yb = torch.from_numpy(train_y[idx]).long()
            counts = model(xb)
            loss = F.cross_entropy(counts, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += float(loss.detach()) * len(idx)
            correct += int((counts.argmax(1) == yb).sum())
            seen += len(idx)
            bar.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.3f}")
        sched.step()
        test_acc, _ = evaluate(model, test_x, test_y)
        seconds += time.perf_counter() - t0
        history.append({"epoch": epoch + 1, "train_loss": loss_sum / seen, "train_accuracy": correct / seen, "test_accuracy": test_acc})
        if progress:
            tqdm.write(f"epoch {epoch + 1}/{cfg.epochs}: loss {loss_sum / seen:.4f}  train {correct / seen:.4f}  test {test_acc:.4f}")
        save_checkpoint(ckpt, model, opt, sched, epoch + 1, history, {"config": asdict(cfg), "n_in": int(train_x.shape[2]), "n_classes": n_classes, "train_seconds": seconds})
        if test_acc >= max(h["test_accuracy"] for h in history):
            write_bytes(ckpt.with_name(BEST_CHECKPOINT), ckpt.read_bytes())
        write_text(ckpt.with_name(METRICS_CSV), history_csv(history))
    return model, history, seconds


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
