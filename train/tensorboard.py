"""`snn2fpga train --tensorboard`: each epoch's metrics.csv row also as TensorBoard scalars, in <run>/tensorboard/.

Optional: the tensorboard package is not a dependency (metrics.csv always holds the same numbers);
asking for it without the package installed is refused before training starts.
"""

from __future__ import annotations

from numbers import Real
from pathlib import Path

from snn2fpga.core.contract import ContractError

TENSORBOARD_DIR = "tensorboard"


def require_tensorboard() -> None:
    """Refuse `--tensorboard` up front when the package is missing (one line, before anything is written)."""
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        raise ContractError("--tensorboard needs the tensorboard package (pip install tensorboard); "
                            "metrics.csv in the run folder holds the same per-epoch figures") from None


class EpochBoard:
    """A SummaryWriter that takes the trainer's per-epoch history rows."""

    def __init__(self, run_dir: Path) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(Path(run_dir) / TENSORBOARD_DIR))

    def write(self, row: dict) -> None:
        """Every numeric field of one history row at step = its epoch, flushed so a running TensorBoard sees it."""
        for key, value in row.items():
            if key != "epoch" and isinstance(value, Real):
                self.writer.add_scalar(key, float(value), int(row["epoch"]))
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()
