"""Hybrid training (seed: Rathi et al. 2020): a quantized ReLU ANN, converted to IF/subtract, fine-tuned with STDB.

1. `QuantANN`: the SNN's layers (same Brevitas weight quantizer, so the same integer codes)
   with Brevitas `QuantReLU` between them, trained on the input rates (spikes averaged over T).
2. `convert`: the weights copied into a QuantSNN (IF, subtract reset); threshold balancing
   layer by layer: θ_l = the `balance` percentile of layer l's positive input currents, with
   layers before l already spiking (100 = the maximum, as in the seed).
3. Fine-tuning is train_model on the converted network; QuantSNN of a hybrid config trains
   with the STDB surrogate α·exp(−β·Δt) (train/lif_fn.py).
"""

from __future__ import annotations

import time

import numpy as np
import torch
from brevitas import nn as qnn
from torch import nn
from torch.nn import functional as F

from snn2fpga.train.config import TrainConfig
from snn2fpga.train.data.packed import PackedSpikes
from snn2fpga.train.model import QuantSNN
from snn2fpga.train.quant import unit_scale, weight_quant_kwargs

ACT_BITS = 4  # the ANN's activation quantizer (QuantReLU); rates over T ≤ 16 steps need no more
CALIBRATION = 256  # training samples that set the thresholds
HYBRID_REPORT = "hybrid.json"  # in the run folder: the ANN and converted accuracies (read again on --resume)


class QuantANN(nn.Module):
    """The SNN's architecture as a ReLU ANN over input rates [B, N_in]; returns logits."""

    def __init__(self, n_in: int, n_classes: int, cfg: TrainConfig) -> None:
        super().__init__()
        sizes = [n_in, *cfg.hidden, n_classes]
        self.fcs = nn.ModuleList(
            qnn.QuantLinear(a, b, bias=False, **weight_quant_kwargs(cfg.weights)) for a, b in zip(sizes[:-1], sizes[1:])
        )
        self.acts = nn.ModuleList(qnn.QuantReLU(bit_width=ACT_BITS) for _ in cfg.hidden)
        if unit_scale(cfg.weights):  # as QuantSNN: latent weights where unit-scale codes vary
            for fc in self.fcs:
                nn.init.uniform_(fc.weight, -1.0, 1.0)

    def forward(self, rates: torch.Tensor) -> torch.Tensor:
        x = rates
        for i, fc in enumerate(self.fcs):
            x = fc(x)
            if i < len(self.acts):
                x = self.acts[i](x)
        return x


def ann_accuracy(ann: QuantANN, x: np.ndarray, y: np.ndarray) -> float:
    """Test accuracy of the ANN on the input rates of spikes x [B, T, N_in]."""
    ann.eval()
    with torch.no_grad():
        logits = ann(torch.from_numpy(np.asarray(x, dtype=np.float32)).mean(1))
    return float((logits.argmax(1).numpy() == y).mean())


def train_ann(cfg: TrainConfig, train: PackedSpikes, n_classes: int) -> QuantANN:
    """`cfg.ann_epochs` epochs of Adam on cross-entropy, seeded batches."""
    torch.manual_seed(cfg.seed)
    ann = QuantANN(train.n_in, n_classes, cfg)
    opt = torch.optim.Adam(ann.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.ann_epochs)
    rates = torch.from_numpy(train.spikes(np.arange(len(train))).astype(np.float32)).mean(1)
    labels = torch.from_numpy(np.asarray(train.labels))
    for epoch in range(cfg.ann_epochs):
        ann.train()
        order = torch.from_numpy(np.random.default_rng((cfg.seed, epoch)).permutation(len(train)))
        for i in range(0, len(order), cfg.batch_size):
            idx = order[i : i + cfg.batch_size]
            loss = F.cross_entropy(ann(rates[idx]), labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    return ann.eval()


@torch.no_grad()
def convert(ann: QuantANN, cfg: TrainConfig, calib: np.ndarray) -> QuantSNN:
    """The ANN as an IF/subtract QuantSNN, thresholds balanced on calibration spikes [B, T, N_in]."""
    torch.manual_seed(cfg.seed)
    snn = QuantSNN(ann.fcs[0].in_features, ann.fcs[-1].out_features, cfg)
    snn.fcs.load_state_dict(ann.fcs.state_dict())
    x = torch.from_numpy(np.asarray(calib, dtype=np.float32))
    for i, lif in enumerate(snn.lifs):
        cur = snn.layer_currents(i, x)
        positive = cur[cur > 0].numpy()
        theta = max(1.0, float(np.percentile(positive, cfg.balance))) if positive.size else 1.0
        lif.threshold.fill_(round(theta) * float(snn.scale(i)))
        x, _ = lif(cur, snn.scale(i))
    return snn.eval()


def prepare(cfg: TrainConfig, train: PackedSpikes, test_x: np.ndarray, test_y: np.ndarray, n_classes: int) -> tuple[QuantSNN, dict]:
    """Train the ANN and convert it; the converted SNN (to fine-tune) and the ANN / converted accuracies."""
    from snn2fpga.train.trainer import evaluate

    t0 = time.perf_counter()
    ann = train_ann(cfg, train, n_classes)
    ann_seconds = time.perf_counter() - t0
    snn = convert(ann, cfg, train.spikes(np.arange(min(CALIBRATION, len(train)))))
    report = {
        "ann_accuracy": ann_accuracy(ann, test_x, test_y),
        "converted_accuracy": evaluate(snn, test_x, test_y)[0],
        "ann_seconds": ann_seconds,
        "thresholds_balanced": [lif.params(snn.scale(i)).threshold for i, lif in enumerate(snn.lifs)],
    }
    return snn, report
