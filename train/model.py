"""The quantized SNN: Brevitas `QuantLinear` → `QuantLIF` layers, spike-count readout."""

from __future__ import annotations

import numpy as np
import torch
from brevitas import nn as qnn
from torch import nn
from torch.nn import functional as F

from snn2fpga.train.config import TrainConfig
from snn2fpga.core.golden import GoldenNetwork, QuantLayer
from snn2fpga.train.neuron import QuantLIF, _ste
from snn2fpga.train.quant import unit_scale, weight_quant_kwargs


GATE_INIT = 0.25  # learned gates (--prune) start open, a short way above 0 (Adam moves them ~lr per step)


class QuantSNN(nn.Module):
    """Feed-forward SNN over input spikes [B, T, N_in]; returns the last layer's spike counts."""

    def __init__(self, n_in: int, n_classes: int, cfg: TrainConfig) -> None:
        super().__init__()
        sizes = [n_in, *cfg.hidden, n_classes]
        self.weight_quant = cfg.weights
        self.fcs = nn.ModuleList(
            qnn.QuantLinear(a, b, bias=False, **weight_quant_kwargs(cfg.weights)) for a, b in zip(sizes[:-1], sizes[1:])
        )
        self.lifs = nn.ModuleList(
            QuantLIF(cfg.membrane, cfg.leak, cfg.reset, cfg.acc_bits, cfg.surrogate, cfg.slope) for _ in self.fcs
        )
        if cfg.method == "hybrid" or cfg.surrogate == "stdb":  # hybrid: an ANN converted, fine-tuned with STDB
            for lif in self.lifs:
                lif.use_stdb(cfg.stdb_alpha, cfg.stdb_beta)
        # Real-unit biases (None: no bias), rounded to integers in units of the weight scale in the forward pass.
        self.biases = nn.ParameterList(nn.Parameter(torch.zeros(b)) for b in sizes[1:]) if cfg.bias else None
        # Learned hidden-neuron gates (--prune): a neuron whose gate is ≤ 0 is silenced, then removed (train/methods/prune.py).
        self.gates = nn.ParameterList(nn.Parameter(torch.full((h,), GATE_INIT)) for h in cfg.hidden) if cfg.prune > 0 else None
        if unit_scale(cfg.weights):
            # Unit-scale quantizers round the latent weight itself: start it where codes vary.
            for fc in self.fcs:
                nn.init.uniform_(fc.weight, -1.0, 1.0)

    def scale(self, i: int) -> torch.Tensor:
        """Power-of-two weight scale s of layer i."""
        return self.fcs[i].quant_weight().scale.reshape(())

    def quant_weights(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Each layer's fake-quantized weight and its scale, quantized once (Brevitas' STE gradient)."""
        out = []
        for fc in self.fcs:
            q = fc.quant_weight()
            out.append((q.value, q.scale.reshape(()).detach()))
        return out

    @staticmethod
    def currents(x: torch.Tensor, weight: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        """W·x in integer units of the weight scale (exact: s is a power of two), [B, T, N_out]."""
        return F.linear(x, weight) / scale

    def layer_currents(self, i: int, x: torch.Tensor) -> torch.Tensor:
        """W·x + b of layer i in integer units of its weight scale (exact: s is a power of two)."""
        weight, scale = self.quant_weights()[i]
        return self.with_bias(i, self.currents(x, weight, scale), scale)

    def with_bias(self, i: int, current: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        """`current` plus layer i's integer bias, if the model has biases."""
        return current if self.biases is None else current + self.bias_codes(i, scale)

    def bias_codes(self, i: int, scale: torch.Tensor) -> torch.Tensor:
        """Layer i's bias as integers in units of its weight scale (straight-through rounding)."""
        soft = self.biases[i] / scale
        return _ste(soft, torch.round(soft))

    def forward_all(self, x: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Spikes and membrane codes of every layer, each [B, T, N_l]; weights quantized once per call."""
        spikes, codes = [], []
        for i, (lif, (weight, scale)) in enumerate(zip(self.lifs, self.quant_weights())):
            s, m = lif(self.with_bias(i, self.currents(x, weight, scale), scale), scale)
            if self.gates is not None and i < len(self.gates):  # open gate: 1 forward, clamp(g, 0, 1) backward
                g = self.gates[i]
                s = s * _ste(torch.clamp(g, 0.0, 1.0), (g > 0).to(s.dtype))
            spikes.append(s)
            codes.append(m)
            x = s
        return spikes, codes

    def forward(self, x: torch.Tensor, all_layers: bool = False) -> torch.Tensor | list[torch.Tensor]:
        """The output layer's spike counts [B, N_out]; with `all_layers`, every layer's spikes [B, T, N_l]."""
        return self.forward_all(x)[0] if all_layers else self.forward_all(x)[0][-1].sum(dim=1)

    @torch.no_grad()
    def calibrate(self, x: torch.Tensor, fire_rate: float) -> None:
        """Data-driven threshold init: θ at the (1 − fire_rate) quantile of each layer's currents."""
        for i, lif in enumerate(self.lifs):
            cur = self.layer_currents(i, x)
            theta = max(1.0, float(torch.quantile(cur.flatten().float(), 1.0 - fire_rate)))
            lif.threshold.fill_(theta * float(self.scale(i)))
            x, _ = lif(cur, self.scale(i))

    @torch.no_grad()
    def to_golden(self) -> GoldenNetwork:
        """The network as integer codes and contract parameters (the golden model, on the CPU wherever the model is)."""
        layers = []
        for i, (fc, lif) in enumerate(zip(self.fcs, self.lifs)):
            scale = self.scale(i)
            codes = fc.quant_weight().int().to(torch.int64).cpu().numpy()
            bias = np.zeros(codes.shape[0], np.int64) if self.biases is None else self.bias_codes(i, scale).to(torch.int64).cpu().numpy()
            layers.append(QuantLayer(codes, self.weight_quant, lif.params(scale), bias))
        return GoldenNetwork(layers)
