"""The `snn2fpga` console script: one subcommand per pipeline step, gathered from the stages."""

from __future__ import annotations

from typing import Optional, Sequence

from snn2fpga.board.cli import COMMANDS as BOARD
from snn2fpga.core.cli import main_of
from snn2fpga.export.cli import COMMAND as EXPORT
from snn2fpga.export.cli import IMPORT
from snn2fpga.hls.cli import COMMAND as HLS
from snn2fpga.rtl.cli import COMMANDS as RTL
from snn2fpga.sim.cli import COMMAND as SIM_BATCH
from snn2fpga.synth.cli import COMMANDS as SYNTH
from snn2fpga.summary import COMMAND as SUMMARY
from snn2fpga.train.bench import COMMAND as TRAIN_BENCH
from snn2fpga.train.cli import COMMAND as TRAIN

COMMANDS = (TRAIN, TRAIN_BENCH, IMPORT, EXPORT, *RTL, HLS, SIM_BATCH, *SYNTH, *BOARD, SUMMARY)
DESCRIPTION = ("A quantized SNN from PyTorch to verified FPGA hardware: train → export (QONNX) → rtl / hls → "
               "sim-batch / synth → board / run-board. `snn2fpga COMMAND --help` lists each command's options and defaults.")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of `snn2fpga` and `python -m snn2fpga`; returns the exit status."""
    return main_of(COMMANDS, argv, "snn2fpga", DESCRIPTION)
