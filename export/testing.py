"""Run folders for tests and development: a calibrated, untrained QuantSNN saved as trainer does."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Optional

import numpy as np


def make_run(out: Path, calib: np.ndarray, n_classes: int = 10, seed: int = 0, fire_rate: float = 0.1, **config) -> Path:
    """Write `out/model.pt` + `out/config.json` for a QuantSNN calibrated on spikes `calib` [B, T, N_in]."""
    import torch

    from snn2fpga.train.config import TrainConfig
    from snn2fpga.train.model import QuantSNN
    from snn2fpga.train.trainer import save_checkpoint

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    cfg = TrainConfig(seed=seed, fire_rate=fire_rate, **config)
    model = QuantSNN(calib.shape[2], n_classes, cfg)
    model.calibrate(torch.from_numpy(np.asarray(calib)).float(), fire_rate)
    opt = torch.optim.Adam(model.parameters())
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, 1)
    cfg.save(out / "config.json")
    meta = {"config": asdict(cfg), "n_in": int(calib.shape[2]), "n_classes": n_classes, "train_seconds": 0.0}
    save_checkpoint(out / "model.pt", model, opt, sched, 0, [], meta)
    return out


def random_spikes(samples: int, steps: int, n_in: int, rate: float = 0.05, seed: Optional[int] = 0) -> np.ndarray:
    """Bernoulli input spikes uint8 [samples, steps, n_in]."""
    return (np.random.default_rng(seed).random((samples, steps, n_in)) < rate).astype(np.uint8)
