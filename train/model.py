"""The quantized SNN: Brevitas `QuantConv2d`/`QuantLinear` → `QuantLIF` layers, OR-pools between, spike-count readout.

The layers come from an architecture string (`TrainConfig.arch`, core/arch.py) or, without one,
dense layers of `TrainConfig.hidden`; each LIF layer has its own quantizers, leak and reset
(`TrainConfig.layers`, train/layers.py). Between layers spikes are flat, [B, T, N], in the
contract's channel-major order c·H·W + y·W + x (torch's flatten of [C, H, W]); a conv or pool
views them as [B·T, C, H, W] maps.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch
from brevitas import nn as qnn
from torch import nn
from torch.nn import functional as F

from snn2fpga.core.arch import ConvSpec, DenseSpec, PlannedLayer, PoolSpec
from snn2fpga.core.contract import ContractError
from snn2fpga.core.golden import ConvLayer, GoldenNetwork, PoolLayer, QuantLayer
from snn2fpga.core.maps import MapShape
from snn2fpga.train.config import TrainConfig
from snn2fpga.train.neuron import QuantLIF, _ste
from snn2fpga.train.pool import or_pool
from snn2fpga.train.quant import unit_scale, weight_quant_kwargs

QUANTILE_MAX = 1 << 24  # torch.quantile refuses larger inputs; calibration subsamples beyond it


def network_plan(n_in: int, n_classes: int, cfg: TrainConfig, in_shape: Optional[MapShape] = None) -> list[PlannedLayer]:
    """The layers of `cfg` on `n_in` inputs: dense `hidden` sizes, or `arch` planned on `in_shape` (default: the dataset's map)."""
    if cfg.arch is None:
        sizes = [n_in, *cfg.hidden, n_classes]
        return [PlannedLayer(DenseSpec(b), a, b, None, None) for a, b in zip(sizes[:-1], sizes[1:])]
    layers = cfg.plan(n_classes, in_shape)
    if layers[0].n_in != n_in:
        raise ContractError(f"--arch {cfg.arch}: the input map {layers[0].in_shape} has {layers[0].n_in} inputs, the data {n_in}")
    return layers


def _weight_layer(p: PlannedLayer, weights: str) -> nn.Module:
    """The Brevitas layer of a conv or dense plan entry, bias-free (the integer bias is the model's own)."""
    kw = weight_quant_kwargs(weights)
    if isinstance(p.spec, ConvSpec):
        return qnn.QuantConv2d(p.in_shape.channels, p.spec.channels, p.spec.kernel, stride=p.spec.stride,
                               padding=p.spec.padding, bias=False, **kw)
    return qnn.QuantLinear(p.n_in, p.n_out, bias=False, **kw)


def _bias_size(p: PlannedLayer) -> int:
    """One bias per output channel of a conv, per neuron of a dense layer."""
    return p.spec.channels if isinstance(p.spec, ConvSpec) else p.n_out


GATE_INIT = 0.25  # learned gates (--prune) start open, a short way above 0 (Adam moves them ~lr per step)


class QuantSNN(nn.Module):
    """Feed-forward SNN over input spikes [B, T, N_in]; returns the last layer's spike counts.

    `fcs`, `lifs` and `biases` hold one entry per LIF layer (conv or dense, in order);
    `plan` every layer including the pools.
    """

    def __init__(self, n_in: int, n_classes: int, cfg: TrainConfig, in_shape: Optional[MapShape] = None) -> None:
        super().__init__()
        self.plan = network_plan(n_in, n_classes, cfg, in_shape)
        self.settings = cfg.layer_settings()
        weighted = [p for p in self.plan if not isinstance(p.spec, PoolSpec)]
        self.fcs = nn.ModuleList(_weight_layer(p, s.weights) for p, s in zip(weighted, self.settings))
        self.lifs = nn.ModuleList(
            QuantLIF(s.membrane, s.leak, s.reset, cfg.acc_bits, cfg.surrogate, cfg.slope) for s in self.settings
        )
        if cfg.method == "hybrid" or cfg.surrogate == "stdb":  # hybrid: an ANN converted, fine-tuned with STDB
            for lif in self.lifs:
                lif.use_stdb(cfg.stdb_alpha, cfg.stdb_beta)
        # Real-unit biases (None: no bias), rounded to integers in units of the weight scale in the forward pass.
        self.biases = nn.ParameterList(nn.Parameter(torch.zeros(_bias_size(p))) for p in weighted) if cfg.bias else None
        # Learned hidden-neuron gates (--prune, dense networks only): a neuron whose gate is ≤ 0 is silenced, then
        # removed (train/methods/prune.py).
        self.gates = nn.ParameterList(nn.Parameter(torch.full((h,), GATE_INIT)) for h in cfg.hidden) if cfg.prune > 0 else None
        for fc, s in zip(self.fcs, self.settings):
            if unit_scale(s.weights):
                # Unit-scale quantizers round the latent weight itself: start it where codes vary.
                nn.init.uniform_(fc.weight, -1.0, 1.0)

    def scale(self, i: int) -> torch.Tensor:
        """Power-of-two weight scale s of LIF layer i."""
        return self.fcs[i].quant_weight().scale.reshape(())

    def quant_weights(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Each layer's fake-quantized weight and its scale, quantized once (Brevitas' STE gradient)."""
        out = []
        for fc in self.fcs:
            q = fc.quant_weight()
            out.append((q.value, q.scale.reshape(()).detach()))
        return out

    def currents(self, i: int, x: torch.Tensor, weight: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        """W·x (dense) or W ⊛ x (conv) of LIF layer i in integer units of the weight scale (exact: s is a power of two), [B, T, N_out]."""
        fc = self.fcs[i]
        if not isinstance(fc, qnn.QuantConv2d):
            return F.linear(x, weight) / scale
        b, t = x.shape[:2]
        maps = x.reshape(b * t, fc.in_channels, *self._in_map(i))
        return (F.conv2d(maps, weight, stride=fc.stride, padding=fc.padding) / scale).reshape(b, t, -1)

    def _in_map(self, i: int) -> tuple[int, int]:
        """Rows and columns of LIF layer i's input map."""
        shape = [p for p in self.plan if not isinstance(p.spec, PoolSpec)][i].in_shape
        return shape.height, shape.width

    def layer_currents(self, i: int, x: torch.Tensor) -> torch.Tensor:
        """W·x + b of LIF layer i in integer units of its weight scale (exact: s is a power of two)."""
        weight, scale = self.quant_weights()[i]
        return self.with_bias(i, self.currents(i, x, weight, scale), scale)

    def with_bias(self, i: int, current: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        """`current` plus layer i's integer bias (a conv's per output channel), if the model has biases."""
        if self.biases is None:
            return current
        codes = self.bias_codes(i, scale)
        return current + codes.repeat_interleave(current.shape[-1] // codes.shape[0])

    def bias_codes(self, i: int, scale: torch.Tensor) -> torch.Tensor:
        """Layer i's bias as integers in units of its weight scale (straight-through rounding)."""
        soft = self.biases[i] / scale
        return _ste(soft, torch.round(soft))

    @staticmethod
    def pool(p: PlannedLayer, x: torch.Tensor) -> torch.Tensor:
        """The OR-pool of plan entry `p` on flat spikes [B, T, N_in] → [B, T, N_out]."""
        b, t = x.shape[:2]
        return or_pool(x.reshape(b * t, *p.in_shape.to_list()), p.spec.k).reshape(b, t, -1)

    def forward_all(self, x: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Spikes and membrane codes of every layer as the golden model lists them, each [B, T, N_l]
        (a pool's membranes [B, T, 0]); weights quantized once per call."""
        spikes, codes = [], []
        weights = iter(enumerate(self.quant_weights()))
        for p in self.plan:
            if isinstance(p.spec, PoolSpec):
                s, m = self.pool(p, x), x.new_zeros(*x.shape[:2], 0)
            else:
                i, (weight, scale) = next(weights)
                s, m = self.lifs[i](self.with_bias(i, self.currents(i, x, weight, scale), scale), scale)
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
        i = 0
        for p in self.plan:
            if isinstance(p.spec, PoolSpec):
                x = self.pool(p, x)
                continue
            lif = self.lifs[i]
            cur = self.layer_currents(i, x)
            flat = cur.flatten().float()
            if flat.numel() > QUANTILE_MAX:  # an evenly strided sample of the currents
                flat = flat[:: -(-flat.numel() // QUANTILE_MAX)]
            theta = max(1.0, float(torch.quantile(flat, 1.0 - fire_rate)))
            if isinstance(p.spec, ConvSpec):
                # A conv's currents take few values (a small kernel on sparse input), so the quantile's own value can
                # fire far more than fire_rate: take the smallest integer θ at or above it that fires at most that often.
                while theta < 2 ** (lif.acc_bits - 1) - 1 and float((flat >= theta).float().mean()) > fire_rate:
                    theta = float(np.floor(theta) + 1)
            lif.threshold.fill_(theta * float(self.scale(i)))
            x, _ = lif(cur, self.scale(i))
            i += 1

    @torch.no_grad()
    def to_golden(self) -> GoldenNetwork:
        """The network as integer codes and contract parameters (the golden model, on the CPU wherever the model is)."""
        layers = []
        i = 0
        for p in self.plan:
            if isinstance(p.spec, PoolSpec):
                layers.append(PoolLayer(p.in_shape, p.spec.k))
                continue
            fc, lif, scale = self.fcs[i], self.lifs[i], self.scale(i)
            codes = fc.quant_weight().int().to(torch.int64).cpu().numpy()
            n_bias = _bias_size(p)
            bias = np.zeros(n_bias, np.int64) if self.biases is None else self.bias_codes(i, scale).to(torch.int64).cpu().numpy()
            quant = self.settings[i].weights
            if isinstance(p.spec, ConvSpec):
                layers.append(ConvLayer(codes, quant, lif.params(scale), p.in_shape, p.spec.stride, p.spec.padding, bias))
            else:
                layers.append(QuantLayer(codes, quant, lif.params(scale), bias))
            i += 1
        return GoldenNetwork(layers)
