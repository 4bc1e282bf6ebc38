"""Architecture strings: `12c5-p2-32c3-p2-fc128` → layer specs, with their map shapes checked before any training.

Tokens, joined by `-`, in order from the input (the output layer, one neuron per class, is appended):

  `<C>c<K>[x<K_w>][s<S>][p<P>]`  conv: C output channels, K×K (or K×K_w) kernel, stride S (1), zero padding P (0)
  `p<k>`                         pool: OR over k×k windows, stride k
  `fc<N>`                        dense: N LIF neurons (a map before it is flattened channel-major)

A conv or pool needs a map: it may not follow a dense layer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Union

from snn2fpga.core.contract import ContractError
from snn2fpga.core.maps import MapShape, conv_out_shape, pool_out_shape

_CONV = re.compile(r"^(\d+)c(\d+)(?:x(\d+))?(?:s(\d+))?(?:p(\d+))?$")
_POOL = re.compile(r"^p(\d+)$")
_DENSE = re.compile(r"^fc(\d+)$")


class ArchError(ContractError):
    """An architecture string that does not parse, or whose maps come out empty."""


@dataclass(frozen=True)
class ConvSpec:
    """A conv layer of an architecture string."""

    channels: int
    kernel: tuple[int, int]
    stride: int = 1
    padding: int = 0

    def __str__(self) -> str:
        kh, kw = self.kernel
        k = f"{kh}" if kh == kw else f"{kh}x{kw}"
        return f"{self.channels}c{k}" + (f"s{self.stride}" if self.stride != 1 else "") + (f"p{self.padding}" if self.padding else "")


@dataclass(frozen=True)
class PoolSpec:
    """A pool layer of an architecture string."""

    k: int

    def __str__(self) -> str:
        return f"p{self.k}"


@dataclass(frozen=True)
class DenseSpec:
    """A dense layer of an architecture string."""

    units: int

    def __str__(self) -> str:
        return f"fc{self.units}"


Spec = Union[ConvSpec, PoolSpec, DenseSpec]


@dataclass(frozen=True)
class PlannedLayer:
    """One layer with the map it takes and makes (None for a dense layer's output, which is flat)."""

    spec: Spec
    n_in: int
    n_out: int
    in_shape: Optional[MapShape]
    out_shape: Optional[MapShape]


def _token(text: str, where: str) -> Spec:
    """One token; ArchError naming it when it is malformed or has a zero size."""
    if m := _CONV.match(text):
        c, kh, kw, s, p = m.groups()
        spec = ConvSpec(int(c), (int(kh), int(kw or kh)), int(s or 1), int(p or 0))
        if min(spec.channels, *spec.kernel, spec.stride) < 1:
            raise ArchError(f"{where}: {text!r} needs channels, kernel and stride ≥ 1")
        return spec
    if m := _POOL.match(text):
        if int(m.group(1)) < 1:
            raise ArchError(f"{where}: {text!r} needs a window ≥ 1")
        return PoolSpec(int(m.group(1)))
    if m := _DENSE.match(text):
        if int(m.group(1)) < 1:
            raise ArchError(f"{where}: {text!r} needs at least 1 neuron")
        return DenseSpec(int(m.group(1)))
    raise ArchError(f"{where}: bad token {text!r}; expected <C>c<K>[x<K_w>][s<S>][p<P>], p<k> or fc<N>")


def parse_arch(text: str) -> tuple[Spec, ...]:
    """The layer specs of an architecture string; ArchError names the first bad token and its position."""
    tokens = text.strip().lower().split("-")
    if not text.strip():
        raise ArchError("--arch is empty; expected tokens such as 12c5-p2-fc128")
    return tuple(_token(tok, f"--arch token {i + 1}") for i, tok in enumerate(tokens))


def plan(in_shape: MapShape, specs: tuple[Spec, ...], n_classes: int) -> list[PlannedLayer]:
    """Shapes of every layer, the output layer (dense, n_classes) appended; ArchError names a layer that cannot be built."""
    layers: list[PlannedLayer] = []
    shape: Optional[MapShape] = in_shape
    n = in_shape.size
    for i, spec in enumerate((*specs, DenseSpec(n_classes))):
        where = f"layer {i + 1} ({spec})" if i < len(specs) else f"the output layer ({n_classes} classes)"
        try:
            if isinstance(spec, DenseSpec):
                layers.append(PlannedLayer(spec, n, spec.units, shape, None))
                shape, n = None, spec.units
                continue
            if shape is None:
                raise ArchError("a conv or pool layer cannot follow a dense layer (its input has no map)")
            out = pool_out_shape(shape, spec.k) if isinstance(spec, PoolSpec) else conv_out_shape(
                shape, spec.channels, spec.kernel, spec.stride, spec.padding)
        except ContractError as e:
            raise ArchError(f"{where}: {e}") from None
        layers.append(PlannedLayer(spec, n, out.size, shape, out))
        shape, n = out, out.size
    return layers
