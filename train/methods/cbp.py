"""CBP (constrained backpropagation, CBP-QSNN seed): a Lagrangian pulls latent weights onto α·levels.

Lagrangian L = loss + Σ λ ⊙ c(w) over every quantized weight. c(w) is the seed's constraint
function: 2·|w − nearest level| (a tent between two levels, twice the distance outside the
outermost), set to 0 inside the unconstrained window around each midpoint, where
2·|w − level| > gap·u. u = 1 − 1/g narrows the window as g steps 1, 2, …, 10, 20, 30, …:
at the end of an epoch whose Lagrangian did not fall, or after `cbp_period` epochs. At
each such step the multipliers take one gradient-ascent step λ ← λ + η·c(w) (∂L/∂λ = c(w)).
α is the quantizer's constant scale, 1 here (train/quant.py: unit-scale binary/ternary), so
the codes are round(w) and α is already folded into θ, which is kept in units of the scale.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from snn2fpga.train.config import TrainConfig

ALPHA = 1.0  # the unit-scale quantizers' constant scale (train/quant.py)
LEVELS = {"binary": (-1.0, 1.0), "ternary": (-1.0, 0.0, 1.0)}
NEAR = 0.05  # "at its level": within 5 % of α


def quantized_weights(model: nn.Module) -> list[nn.Parameter]:
    """The latent weights of every Brevitas weight-quantized layer (dense or conv)."""
    return [m.weight for m in model.modules() if hasattr(m, "quant_weight") and isinstance(getattr(m, "weight", None), nn.Parameter)]


def level_distance(w: torch.Tensor, quant: str) -> torch.Tensor:
    """|w − nearest α·level| per weight."""
    levels = torch.tensor(LEVELS[quant], dtype=w.dtype, device=w.device) * ALPHA
    return (w.unsqueeze(-1) - levels).abs().amin(-1)


def near_level_fraction(model: nn.Module, quant: str) -> float:
    """Fraction of latent weights within 5 % of α of their level (binary/ternary weights only)."""
    return near_level_fraction_of(quantized_weights(model), quant)


class CBP:
    """The multipliers, the window and the schedule of one CBP run."""

    def __init__(self, model: nn.Module, cfg: TrainConfig) -> None:
        self.quant, self.eta, self.period_max = cfg.weights, cfg.cbp_lr_lambda, cfg.cbp_period
        levels = LEVELS[cfg.weights]
        self.gap = (levels[1] - levels[0]) * ALPHA
        self.lo, self.hi = levels[0] * ALPHA, levels[-1] * ALPHA
        self.weights = quantized_weights(model)
        self.lambdas = [torch.zeros_like(w, requires_grad=False) for w in self.weights]
        self.g, self.prev, self.period = 1, math.inf, 0
        self.ascend()  # as the seed: one multiplier step before training (only out-of-range weights count at g = 1)

    @property
    def window(self) -> float:
        """u = 1 − 1/g: 0 leaves everything between the outer levels unconstrained, 1 nothing."""
        return 1.0 - 1.0 / self.g

    def constraint(self, w: torch.Tensor) -> torch.Tensor:
        """c(w) per weight (differentiable in w)."""
        c = 2.0 * level_distance(w, self.quant)
        free = (w > self.lo) & (w < self.hi) & (c > self.gap * self.window)
        return c.masked_fill(free, 0.0)

    def penalty(self) -> torch.Tensor:
        """Σ λ ⊙ c(w): the constraint part of the Lagrangian (λ held constant)."""
        return sum((lam * self.constraint(w)).sum() for lam, w in zip(self.lambdas, self.weights))

    @torch.no_grad()
    def ascend(self) -> None:
        """One gradient-ascent step of the multipliers."""
        for lam, w in zip(self.lambdas, self.weights):
            lam.add_(self.eta * self.constraint(w))

    def end_epoch(self, lagrangian: float) -> dict:
        """Narrow the window and step λ when the epoch's Lagrangian did not fall or the period is up."""
        self.period += 1
        if lagrangian >= self.prev or self.period >= self.period_max:
            self.g = self.g + 1 if self.g < 10 else self.g + 10
            self.ascend()
            self.prev, self.period = math.inf, 0
        else:
            self.prev = lagrangian
        return {"cbp_window": self.window, "near_level": near_level_fraction_of(self.weights, self.quant)}

    def state_dict(self) -> dict:
        return {"lambdas": [lam.detach().cpu() for lam in self.lambdas], "g": self.g, "prev": self.prev, "period": self.period}

    def load_state_dict(self, state: dict) -> None:
        for lam, saved in zip(self.lambdas, state["lambdas"]):
            lam.copy_(saved)
        self.g, self.prev, self.period = state["g"], state["prev"], state["period"]

    def to(self, device: torch.device) -> "CBP":
        self.lambdas = [lam.to(device) for lam in self.lambdas]
        return self


def near_level_fraction_of(weights: list[torch.Tensor], quant: str) -> float:
    """near_level_fraction over a list of weight tensors."""
    with torch.no_grad():
        near = sum(int((level_distance(w, quant) <= NEAR * ALPHA).sum()) for w in weights)
        return near / max(1, sum(w.numel() for w in weights))
