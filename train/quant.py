"""Brevitas weight quantizers for every weight option of the contract, all power-of-two scaled.

binary/ternary use a constant scale of 1 (= 2^0), so codes are the weights themselves;
int2..int8 use Brevitas' fixed-point (power-of-two, statistics-based) quantizer. Either
way the scale folds exactly into the integer membrane and threshold (docs/contract.md).
"""

from __future__ import annotations

from brevitas.quant import (
    Int8WeightPerTensorFixedPoint,
    SignedBinaryWeightPerTensorConst,
    SignedTernaryWeightPerTensorConst,
)

from snn2fpga.core.contract import WEIGHT_QUANTS, ContractError


class BinaryWeightUnitScale(SignedBinaryWeightPerTensorConst):
    """Codes {−1, +1} with scale 1."""

    scaling_const = 1.0


class TernaryWeightUnitScale(SignedTernaryWeightPerTensorConst):
    """Codes {−1, 0, +1} with scale 1 (|w| < 0.5 → 0)."""

    scaling_const = 1.0


def weight_quant_kwargs(quant: str) -> dict:
    """Keyword arguments for `brevitas.nn.QuantLinear` that implement a weight quantizer."""
    if quant == "binary":
        return {"weight_quant": BinaryWeightUnitScale}
    if quant == "ternary":
        return {"weight_quant": TernaryWeightUnitScale}
    if quant in WEIGHT_QUANTS:
        return {"weight_quant": Int8WeightPerTensorFixedPoint, "weight_bit_width": int(quant[3:])}
    raise ContractError(f"--weights {quant!r} unknown; choose one of {', '.join(WEIGHT_QUANTS)}")


def unit_scale(quant: str) -> bool:
    """True for quantizers with a constant scale of 1, whose latent weights live near ±1."""
    return quant in ("binary", "ternary")
