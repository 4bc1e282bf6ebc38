"""The training objective of a run: its loss (spike counts or TET), activity penalty and CBP hooks."""

from __future__ import annotations

from typing import Optional

import torch
from torch.nn import functional as F

from snn2fpga.train.config import TrainConfig
from snn2fpga.train.methods.cbp import CBP
from snn2fpga.train.methods.prune import gate_penalty


def tet_loss(out_spikes: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """TET (Deng et al. 2022): the mean over steps of the cross-entropy of each step's output.

    A step's output is its spikes scaled by T, so a network whose every step agrees gets the
    count loss's logits (the readout is the sum of the steps, the spike count)."""
    steps = out_spikes.shape[1]
    logits = out_spikes * steps
    return torch.stack([F.cross_entropy(logits[:, t], y) for t in range(steps)]).mean()


def activity_penalty(spikes: list[torch.Tensor]) -> torch.Tensor:
    """Hidden spikes per sample per step (all layers but the readout): what the cycle model charges."""
    return sum(s.sum(dim=(1, 2)).mean() for s in spikes[:-1]) / spikes[0].shape[1]


class Objective:
    """Loss and hooks of one run; plain BPTT with the count loss is exactly F.cross_entropy(counts, y)."""

    def __init__(self, cfg: TrainConfig, model: torch.nn.Module) -> None:
        self.loss_kind, self.activity, self.prune = cfg.loss, cfg.activity, cfg.prune
        self.model = model
        self.cbp: Optional[CBP] = CBP(model, cfg) if cfg.method == "cbp" else None

    @property
    def wants_layers(self) -> bool:
        """Whether the loss needs every layer's spikes per step (else only the output counts)."""
        return self.loss_kind == "tet" or self.activity > 0

    def loss(self, out: torch.Tensor | list[torch.Tensor], y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(loss, output counts) from the model's output: counts, or each layer's spikes when wants_layers."""
        if not self.wants_layers:
            counts = out
            loss = F.cross_entropy(counts, y)
        else:
            counts = out[-1].sum(dim=1)
            loss = tet_loss(out[-1], y) if self.loss_kind == "tet" else F.cross_entropy(counts, y)
            if self.activity > 0:
                loss = loss + self.activity * activity_penalty(out)
        if self.cbp is not None:
            loss = loss + self.cbp.penalty()
        if self.prune > 0:
            loss = loss + self.prune * gate_penalty(self.model)
        return loss, counts

    def end_epoch(self, train_loss: float) -> dict:
        """Per-epoch schedule steps; extra history columns."""
        extra = {} if self.cbp is None else self.cbp.end_epoch(train_loss)
        if self.prune > 0:
            extra["open_gates"] = [int((g > 0).sum()) for g in self.model.gates]
        return extra

    def state_dict(self) -> dict:
        return {} if self.cbp is None else {"cbp": self.cbp.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        if self.cbp is not None and "cbp" in state:
            self.cbp.load_state_dict(state["cbp"])
