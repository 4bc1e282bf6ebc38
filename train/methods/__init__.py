"""Training methods beyond plain BPTT (DESIGN §8): CBP, hybrid ANN → SNN + STDB, TET and activity terms.

Every method trains the same forward pass (the contract), so its eval forward equals the
golden model; only the loss, the backward pass or the schedule differ. `make_method`
gives the trainer one object with the loss, the per-step and per-epoch hooks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from snn2fpga.core.contract import ContractError

if TYPE_CHECKING:
    from snn2fpga.train.config import TrainConfig

METHODS = ("bptt", "cbp", "hybrid")
LOSSES = ("count", "tet")
CBP_WEIGHTS = ("binary", "ternary")  # CBP's constraint levels are the unit-scale codes α·{−1, (0,) +1}


def check_method(cfg: "TrainConfig") -> None:
    """ContractError naming the option, the reason and the supported choices for an unsupported pairing."""
    if cfg.method not in METHODS:
        raise ContractError(f"--method {cfg.method!r} unknown; choose one of {', '.join(METHODS)}")
    if cfg.loss not in LOSSES:
        raise ContractError(f"--loss {cfg.loss!r} unknown; choose one of {', '.join(LOSSES)}")
    if cfg.activity < 0:
        raise ContractError(f"--activity must be ≥ 0, got {cfg.activity}")
    if cfg.method == "cbp" and cfg.weights not in CBP_WEIGHTS:
        raise ContractError(f"--method cbp constrains weights to binary or ternary levels, not --weights {cfg.weights}; "
                            f"choose --weights {' or '.join(CBP_WEIGHTS)}, or another --method ({', '.join(m for m in METHODS if m != 'cbp')})")
    if cfg.method == "hybrid" and (cfg.leak is not None or cfg.reset != "subtract"):
        raise ContractError("--method hybrid converts a ReLU ANN to IF neurons with subtract reset; "
                            f"pass --leak none --reset subtract (got --leak {cfg.leak if cfg.leak is not None else 'none'} "
                            f"--reset {cfg.reset})")
    if cfg.method == "hybrid" and not 0 < cfg.balance <= 100:
        raise ContractError(f"--balance is a percentile in (0, 100], got {cfg.balance}")
    if cfg.prune < 0:
        raise ContractError(f"--prune must be ≥ 0, got {cfg.prune}")
    if cfg.prune > 0 and cfg.weights not in CBP_WEIGHTS:
        raise ContractError(f"--prune removes neurons exactly only with unit-scale weights (a statistics-based scale changes "
                            f"when rows go), not --weights {cfg.weights}; choose --weights {' or '.join(CBP_WEIGHTS)}")
    if cfg.arch is not None and (cfg.prune > 0 or cfg.method == "hybrid"):
        raise ContractError(f"{'--prune' if cfg.prune > 0 else '--method hybrid'} takes dense networks (--hidden) only so far, "
                            f"not --arch {cfg.arch}")
    if cfg.cbp_lr_lambda <= 0 or cfg.cbp_period < 1 or cfg.ann_epochs < 1:
        raise ContractError("--cbp-lr-lambda must be > 0, --cbp-period and --ann-epochs ≥ 1")
