"""The Yosys step: the script, and what its output says (cell counts, where each memory went).

Two things the script does besides `synth_<family>`, both about Amaranth's Verilog:

- `rename -hide w:*]`: Amaranth declares a view wire per array element beside the
  packed vector (`w_rd__data` and `\\w_rd__data[3]`); when ABC's netlist is put back,
  Yosys names the vector's bits `w_rd__data[3]` too and stops on
  "Assert `count_id(wire->name) == 0' failed" (YosysHQ/yosys#4349, same cause). Hiding
  the element names (they are aliases, no logic) avoids the clash.
- `setattr -set ram_style "block" m:*` (memory policy "block", the default): every memory
  of the generated design goes to block RAM, including the small current / membrane /
  spike-buffer arrays Yosys would otherwise put in LUT RAM or flip-flops. Policy "auto"
  leaves the choice to Yosys' cost model; the weights must still land in block RAM.

`memory_libmap` logs one line per memory ("mapping memory M via CELL" or "using FF
mapping for memory M"); `memory_mapping()` reads them back so the report can show, and the
flow can check, where each memory of the manifest went.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Optional

from snn2fpga.rtl.manifest import Manifest
from snn2fpga.synth.errors import MemoryMappingError, ToolError
from snn2fpga.synth.targets import Target

MEMORY_POLICIES = ("block", "auto")


def script(target: Target, sources: list[str], top: str, netlist: Optional[str], policy: str = "block",
           extra_synth_args: str = "") -> str:
    """A Yosys script: read, fix Amaranth names, set the memory policy, synthesize, write stat.json."""
    if policy not in MEMORY_POLICIES:
        raise ValueError(f"memory policy {policy!r} unknown; choose one of {', '.join(MEMORY_POLICIES)}")
    lines = [f"# synth/: Yosys script for target {target.name} ({target.family})"]
    lines += [f"read_verilog {src}" for src in sources]
    lines += [
        f"hierarchy -check -top {top}",
        "# Amaranth array-element wires clash with ABC's bit names (YosysHQ/yosys#4349): hide them",
        "rename -hide w:*]",
    ]
    if policy == "block":
        lines += ["# every memory to block RAM (policy 'block')", 'setattr -set ram_style "block" m:*']
    cmd = f"{target.synth_cmd} -top {top}"
    if extra_synth_args:
        cmd += f" {extra_synth_args}"
    if netlist:
        cmd += f" -json {netlist}"
    lines += [cmd, "tee -q -o stat.json stat -json", ""]
    return "\n".join(lines)


def read_stat(path: Path) -> dict:
    """Cell histogram and totals of the top module from `stat -json` output."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ToolError(f"{path}: no readable Yosys statistics ({exc})") from None
    return parse_stat(data, str(path))


def parse_stat(data: dict, where: str = "stat -json") -> dict:
    """{"cells": {type: n}, "num_cells", "num_memories", "num_memory_bits"} of the design."""
    design = data.get("design")
    if design is None:  # older Yosys: one entry per module, the top holds the flattened design
        modules = data.get("modules", {})
        if len(modules) != 1:
            raise ToolError(f"{where}: expected one flattened module, found {sorted(modules)}")
        design = next(iter(modules.values()))
    cells = design.get("num_cells_by_type")
    if cells is None:
        raise ToolError(f"{where}: no 'num_cells_by_type' in Yosys statistics")
    return {
        "cells": {k: int(v) for k, v in sorted(cells.items())},
        "num_cells": int(design.get("num_cells", sum(cells.values()))),
        "num_memories": int(design.get("num_memories", 0)),
        "num_memory_bits": int(design.get("num_memory_bits", 0)),
    }


_MAP_VIA = re.compile(r"^mapping memory (\S+) via (\S+)")
_MAP_FF = re.compile(r"^using FF mapping for memory (\S+)")


def memory_mapping(log_text: str) -> dict[str, str]:
    """memory name (as Yosys prints it, e.g. `snn_top.layer0.weights`) → the cell it was mapped
    to (`$__ECP5_DP16KD_` …) or "FF" (flip-flops and LUT logic)."""
    mapped: dict[str, str] = {}
    for line in log_text.splitlines():
        line = line.strip()
        m = _MAP_VIA.match(line)
        if m:
            mapped[m.group(1)] = m.group(2)
            continue
        m = _MAP_FF.match(line)
        if m:
            mapped[m.group(1)] = "FF"
    return mapped


def classify(target: Target, cell: Optional[str]) -> str:
    """block | lutram | logic | absent, for a memory_libmap result."""
    if cell is None:
        return "absent"
    if cell.startswith(target.block_ram_maps):
        return "block"
    if cell.startswith(target.lut_ram_maps):
        return "lutram"
    return "logic"


def check_memories(target: Target, manifest: Manifest, mapped: dict[str, str], policy: str) -> list[dict]:
    """Each memory of the manifest with where Yosys put it; MemoryMappingError if one that must be
    block RAM is not (policy "block": all; "auto": the weights)."""
    rows = []
    for layer in manifest.layers:
        for mem in layer.memories:
            suffix = f"{layer.instance}.{mem.name}"
            cell = next((c for name, c in mapped.items() if name == suffix or name.endswith("." + suffix)), None)
            kind = classify(target, cell)
            rows.append({"memory": suffix, "depth": mem.depth, "width": mem.width, "bits": mem.bits,
                         "mapped_to": cell or "—", "kind": kind})
    must = [r for r in rows if (policy == "block" or r["memory"].endswith(".weights"))]
    bad = [r for r in must if r["kind"] not in ("block", "absent")]
    if bad:
        lines = "\n".join(f"  {r['memory']} ({r['depth']}×{r['width']}): {r['mapped_to']} → {r['kind']}" for r in bad)
        raise MemoryMappingError(
            f"{len(bad)} memor{'y' if len(bad) == 1 else 'ies'} not mapped to {target.bram_cell} "
            f"(memory policy {policy!r}):\n{lines}", rows)
    return rows
