"""Write a network's RTL: Verilog, memory init files and manifest.json (docs/rtl.md).

`generate(network, steps, lanes, out_dir)` writes into `out_dir`, atomically (a temp
folder beside it, renamed into place):

    snn_top.v            the top and every layer module, one file (Amaranth emits one)
    weights_l<l>.hex     $readmemh image of layer l's weight memory (also inlined in the .v)
    bias_l<l>.hex        the bias rows the currents start from, for layers with a bias
    manifest.json        ports, P, T, layers, memories, cycle-model parameters
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from amaranth import Shape
from amaranth.back import verilog
from amaranth.lib import wiring

from snn2fpga.rtl.aer import addr_bits
from snn2fpga.rtl.cycle_model import CycleParams
from snn2fpga.rtl.layer import LayerCore
from snn2fpga.rtl.top import SNNTop
from snn2fpga.core.files import building_dir
from snn2fpga.core.golden import GoldenNetwork

TOP_NAME = "snn_top"
MANIFEST_FORMAT = "snn2fpga-rtl/1"


class GenerateError(ValueError):
    """The network, step count or lane count cannot be turned into RTL."""


def _ports(top: SNNTop) -> list[dict]:
    ports = [{"name": "clk", "dir": "in", "width": 1}, {"name": "rst", "dir": "in", "width": 1}]
    for path, member in top.signature.members.flatten():
        if member.is_port:
            ports.append(
                {
                    "name": "__".join(str(p) for p in path),
                    "dir": "in" if member.flow == wiring.In else "out",
                    "width": Shape.cast(member.shape).width,
                }
            )
    return ports


def _hex_rows(rows: list[list[int]], lane_bits: int) -> str:
    """One packed memory word per line, lane j at bits [j·b, (j+1)·b), two's complement."""
    width = lane_bits * len(rows[0])
    digits = max(1, -(-width // 4))
    mask = (1 << lane_bits) - 1
    lines = []
    for row in rows:
        word = 0
        for j, v in enumerate(row):
            word |= (int(v) & mask) << (j * lane_bits)
        lines.append(f"{word:0{digits}x}")
    return "\n".join(lines) + "\n"


def _memory_entry(name: str, mem, init_file: str | None) -> dict:
    width = Shape.cast(mem.shape).width
    return {"name": name, "depth": mem.depth, "width": width, "bits": mem.depth * width, "init_file": init_file}


def _layer_entry(index: int, core: LayerCore, files: dict[str, str]) -> dict:
    layer, lif = core.layer, core.layer.lif
    mems = []
    for name, mem in core.memories().items():
        init = files.get(f"{name}_l{index}")
        mems.append(_memory_entry(name, mem, init))
    return {
        "index": index,
        "instance": f"layer{index}",
        "n_in": layer.n_in,
        "n": layer.n_out,
        "lanes": core.lanes,
        "rows": core.rows,
        "units": core.units,
        "slices": core.slices,
        "row_cycles": core.row_cycles,
        "weight_quant": layer.weight_quant,
        "weight_bits": core.weight_bits,
        "membrane": lif.membrane,
        "membrane_bits": core.membrane_bits,
        "threshold": lif.threshold,
        "delta": lif.delta,
        "acc_bits": lif.acc_bits,
        "leak_shift": lif.leak_shift,
        "reset": lif.reset,
        "current_bits": core.current_bits,
        "has_bias": core.bias is not None,
        "in_addr_bits": addr_bits(layer.n_in),
        "out_addr_bits": addr_bits(layer.n_out),
        "memories": mems,
    }


def _memory_totals(layers: list[dict]) -> dict:
    totals: dict[str, int] = {}
    for entry in layers:
        for mem in entry["memories"]:
            totals[mem["name"]] = totals.get(mem["name"], 0) + mem["bits"]
    # the stored state proper: N membrane codes, unpadded
    totals["membrane_state"] = sum(e["n"] * e["membrane_bits"] for e in layers)
    totals["weight_codes"] = sum(e["n"] * e["n_in"] * e["weight_bits"] for e in layers)
    return totals


def generate(network: GoldenNetwork, steps: int, lanes: int, out_dir, source: str = "", units: int | None = None) -> dict:
    """Write the RTL of `network` (T = `steps`, P = `lanes`, Q = `units` LIF units per layer,
    default one per lane) into `out_dir`; return the manifest.

    `source` (the model file it came from) is recorded in the manifest as given."""
    if not isinstance(lanes, int) or lanes < 1:
        raise GenerateError(f"lanes={lanes!r} must be a positive integer")
    if not isinstance(steps, int) or steps < 1:
        raise GenerateError(f"steps={steps!r} must be a positive integer")
    out_dir = Path(out_dir)
    start = time.perf_counter()
    if units is not None and (not isinstance(units, int) or units < 1):
        raise GenerateError(f"units={units!r} must be a positive integer (or None: one LIF unit per lane)")
    top = SNNTop(network, steps, lanes, units)
    files: dict[str, str] = {}
    contents: dict[str, str] = {}
    for i, core in enumerate(top.layers):
        lane_bits = core.weight_bits
        contents[f"weights_l{i}.hex"] = _hex_rows(core.weight_rows(), lane_bits)
        files[f"weights_l{i}"] = f"weights_l{i}.hex"
        if core.bias is not None:
            contents[f"bias_l{i}.hex"] = _hex_rows(core.bias_rows(), core.current_bits)
            files[f"bias_l{i}"] = files[f"currents_l{i}"] = f"bias_l{i}.hex"  # currents start at b
    ports = _ports(top)  # before elaboration: convert() consumes the component
    text = verilog.convert(top, name=TOP_NAME, emit_src=False)
    contents[f"{TOP_NAME}.v"] = text

    layers = [_layer_entry(i, core, files) for i, core in enumerate(top.layers)]
    cycle = CycleParams.from_network(network, lanes, steps, units)
    manifest = {
        "format": MANIFEST_FORMAT,
        "source": source,
        "top": TOP_NAME,
        "verilog": [f"{TOP_NAME}.v"],
        "lanes": lanes,
        "units": units,
        "steps": steps,
        "n_in": network.n_in,
        "n_classes": network.layers[-1].n_out,
        "count_bits": top.count_bits,
        "ports": ports,
        "aer": {
            "payload": "addr in bits [0, addr_bits), eos in bit addr_bits",
            "in_addr_bits": addr_bits(network.n_in),
            "out_addr_bits": addr_bits(network.layers[-1].n_out),
        },
        "taps": [{"port": f"tap{i}", "layer": i, "addr_bits": addr_bits(c.layer.n_out)} for i, c in enumerate(top.layers)],
        "layers": layers,
        "memory_bits": _memory_totals(layers),
        "cycle_model": {**cycle.to_dict(), "clear_cycles": cycle.clear_cycles()},
        "generation_s": None,
    }
    manifest["generation_s"] = round(time.perf_counter() - start, 3)
    contents["manifest.json"] = json.dumps(manifest, indent=2) + "\n"
    _write_atomically(out_dir, contents)
    return manifest


def _write_atomically(out_dir: Path, contents: dict[str, str]) -> None:
    """Write every file into a work folder beside `out_dir`, then swap it into place."""
    with building_dir(out_dir) as work:
        for name, text in contents.items():
            (work / name).write_text(text)
