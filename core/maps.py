"""Spike maps (DESIGN §7): their shape, and the conv and OR-pool arithmetic over them, in exact integers.

A map of C channels, H rows and W columns is flattened channel-major, index `c·H·W + y·W + x`
(the input's channel is its polarity), so a dense layer after a conv or pool takes it as is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from snn2fpga.core.contract import ContractError


@dataclass(frozen=True)
class MapShape:
    """Channels, rows and columns of a spike map."""

    channels: int
    height: int
    width: int

    def __post_init__(self) -> None:
        if min(self.channels, self.height, self.width) < 1:
            raise ContractError(f"empty map {self.channels}×{self.height}×{self.width}")

    @property
    def size(self) -> int:
        """Neurons in the map, C·H·W."""
        return self.channels * self.height * self.width

    def __str__(self) -> str:
        return f"{self.channels}×{self.height}×{self.width}"

    def to_list(self) -> list[int]:
        return [self.channels, self.height, self.width]


def conv_out_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """⌊(size + 2·padding − kernel) / stride⌋ + 1, as ONNX `Conv` computes it; < 1 means empty."""
    return (size + 2 * padding - kernel) // stride + 1


def conv_out_shape(shape: MapShape, out_channels: int, kernel: tuple[int, int], stride: int, padding: int) -> MapShape:
    """Output map of a conv; ContractError when the kernel does not fit its (padded) input."""
    kh, kw = kernel
    if stride < 1 or padding < 0 or kh < 1 or kw < 1 or out_channels < 1:
        raise ContractError(f"conv needs channels, kernel, stride ≥ 1 and padding ≥ 0 (got {out_channels}, {kh}×{kw}, {stride}, {padding})")
    if padding >= max(kh, kw):
        raise ContractError(f"padding {padding} must be smaller than the {kh}×{kw} kernel")
    if kh > shape.height + 2 * padding or kw > shape.width + 2 * padding:
        raise ContractError(f"kernel {kh}×{kw} is larger than its input {shape} with padding {padding}")
    return MapShape(out_channels, conv_out_size(shape.height, kh, stride, padding), conv_out_size(shape.width, kw, stride, padding))


def pool_out_shape(shape: MapShape, k: int) -> MapShape:
    """Output map of a k×k, stride-k pool: ⌊H/k⌋ × ⌊W/k⌋ (a remainder row or column is dropped)."""
    if k < 1:
        raise ContractError(f"pool window must be ≥ 1, got {k}")
    if k > shape.height or k > shape.width:
        raise ContractError(f"pool window {k} is larger than its input {shape}")
    return MapShape(shape.channels, shape.height // k, shape.width // k)


def conv_currents(x: np.ndarray, shape: MapShape, weights: np.ndarray, stride: int, padding: int) -> np.ndarray:
    """W ⊛ s for flat spike maps x [B, C·H·W]: [B, C_out·H_out·W_out], exact int64 (no bias)."""
    c_out, _, kh, kw = weights.shape
    maps = np.asarray(x, dtype=np.int64).reshape(-1, shape.channels, shape.height, shape.width)
    maps = np.pad(maps, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    windows = sliding_window_view(maps, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    out = np.einsum("bchwij,ocij->bohw", windows, weights.astype(np.int64), optimize=True)
    return out.reshape(out.shape[0], -1)


def pool_or(x: np.ndarray, shape: MapShape, k: int) -> np.ndarray:
    """OR over k×k windows (stride k) of flat spike maps x [B, C·H·W]: uint8 [B, C·⌊H/k⌋·⌊W/k⌋]."""
    out = pool_out_shape(shape, k)
    maps = np.asarray(x).reshape(-1, shape.channels, shape.height, shape.width)
    maps = maps[:, :, : out.height * k, : out.width * k]
    windows = maps.reshape(-1, shape.channels, out.height, k, out.width, k)
    return (windows.max(axis=(3, 5)) > 0).astype(np.uint8).reshape(maps.shape[0], -1)
