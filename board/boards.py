"""The boards `snn2fpga board` builds for: an amaranth-boards platform each, and the block RAM
its FPGA has (to refuse a model that cannot fit before spending minutes in place and route)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

from snn2fpga.core.contract import weight_code_bits
from snn2fpga.core.golden import GoldenNetwork

DEFAULT_BAUD = 1_000_000  # a whole divisor of 12, 25 and 48 MHz; FT231X / FT2232H UARTs take it


class BoardError(ValueError):
    """Unknown board, or a model that does not fit it."""


@dataclass(frozen=True)
class Board:
    """One supported board: its amaranth-boards platform class and what its FPGA offers."""

    name: str
    title: str
    module: str  # amaranth_boards.<module>
    platform_class: str
    family: str  # "ecp5" | "ice40": synth.targets' name of the family
    device: str  # synth.targets' device name
    clk_hz: float
    bram_bits: int  # block RAM the generated memories can use (EBR; not the iCE40UP's SPRAM, which has no init)

    def platform(self):
        """A fresh instance of the board's amaranth-boards platform."""
        return getattr(import_module(f"amaranth_boards.{self.module}"), self.platform_class)()


BOARDS = {b.name: b for b in (
    Board("ulx3s-85f", "ULX3S 85F", "ulx3s", "ULX3S_85F_Platform", "ecp5", "LFE5U-85F", 25e6, 208 * 18432),
    Board("ulx3s-45f", "ULX3S 45F", "ulx3s", "ULX3S_45F_Platform", "ecp5", "LFE5U-45F", 25e6, 108 * 18432),
    Board("ulx3s-25f", "ULX3S 25F", "ulx3s", "ULX3S_25F_Platform", "ecp5", "LFE5U-25F", 25e6, 56 * 18432),
    Board("ulx3s-12f", "ULX3S 12F", "ulx3s", "ULX3S_12F_Platform", "ecp5", "LFE5U-12F", 25e6, 32 * 18432),
    Board("icebreaker", "iCEBreaker (iCE40UP5K)", "icebreaker", "ICEBreakerPlatform", "ice40", "up5k", 12e6, 30 * 4096),
    Board("icestick", "iCEstick (iCE40HX1K)", "icestick", "ICEStickPlatform", "ice40", "hx1k", 12e6, 16 * 4096),
)}


def get_board(name: str) -> Board:
    """The board called `name`; an unknown name lists the supported ones."""
    if name not in BOARDS:
        raise BoardError(f"unknown board {name!r}; supported: {', '.join(BOARDS)}")
    return BOARDS[name]


def weight_bits(network: GoldenNetwork) -> int:
    """Bits of the weight codes, the memory that decides whether a network fits a board."""
    return sum(layer.weights.size * weight_code_bits(layer.weight_quant) for layer in network.layers if layer.lif is not None)


def check_fits(network: GoldenNetwork, board: Board) -> None:
    """Refuse, naming the resource, a network whose weights alone exceed the board's block RAM."""
    need = weight_bits(network)
    if need > board.bram_bits:
        raise BoardError(f"the model does not fit the {board.title}: block RAM: its weights need {need:,} bits, "
                         f"the {board.device} has {board.bram_bits:,}")
