"""Write a network's RTL: Verilog, memory init files and manifest.json (docs/rtl.md).

`generate(network, steps, lanes, out_dir)` writes into `out_dir`, atomically (a temp
folder beside it, renamed into place):

    snn_top.v            the top and every layer module, one file (Amaranth emits one)
    weights_l<l>.hex     $readmemh image of layer l's weight memory (also inlined in the .v)
    bias_l<l>.hex        the bias rows the currents start from, for layers with a bias
    manifest.json        ports, P, T, layers, memories, cycle-model parameters
"""

from __future__ import annotations

import time
from pathlib import Path

from amaranth import Shape
from amaranth.back import verilog
from amaranth.lib import wiring

from snn2fpga.rtl.aer import addr_bits
from snn2fpga.rtl.cycle_model import CycleParams
from snn2fpga.rtl.layer import LayerCore
from snn2fpga.rtl.manifest import MANIFEST_FILE, Aer, LayerEntry, Manifest, MapEntry, Memory, MemoryBits, Port, Tap
from snn2fpga.rtl.pool import PoolUnit
from snn2fpga.rtl.top import SNNTop
from snn2fpga.core.files import building_dir
from snn2fpga.core.golden import GoldenNetwork

TOP_NAME = "snn_top"
AER_PAYLOAD = "addr in bits [0, addr_bits), eos in bit addr_bits"


class GenerateError(ValueError):
    """The network, step count or lane count cannot be turned into RTL."""


def _ports(top: SNNTop) -> tuple[Port, ...]:
    ports = [Port("clk", "in", 1), Port("rst", "in", 1)]
    for path, member in top.signature.members.flatten():
        if member.is_port:
            name = "__".join(str(p) for p in path)
            ports.append(Port(name, "in" if member.flow == wiring.In else "out", Shape.cast(member.shape).width))
    return tuple(ports)


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


def _memory_entry(name: str, mem, init_file: str | None) -> Memory:
    width = Shape.cast(mem.shape).width
    return Memory(name, mem.depth, width, mem.depth * width, init_file)


def _map_entry(layer) -> MapEntry | None:
    if layer.kind == "dense":
        return None
    shapes = dict(in_shape=tuple(layer.in_shape.to_list()), out_shape=tuple(layer.out_shape.to_list()))
    if layer.kind == "pool":
        return MapEntry(**shapes, k=layer.k)
    return MapEntry(**shapes, kernel=layer.kernel, stride=layer.stride, padding=layer.padding)


def _pool_entry(index: int, unit: PoolUnit, mems: tuple[Memory, ...]) -> LayerEntry:
    layer = unit.layer
    none = dict.fromkeys(("weight_quant", "weight_bits", "membrane", "membrane_bits", "threshold", "delta", "acc_bits",
                          "leak_shift", "reset", "current_bits"))
    return LayerEntry(index=index, instance=f"layer{index}", n_in=layer.n_in, n=layer.n_out, lanes=1, rows=unit.rows,
                      units=1, slices=1, row_cycles=1, **none, has_bias=False, in_addr_bits=addr_bits(layer.n_in),
                      out_addr_bits=addr_bits(layer.n_out), memories=mems, kind="pool", map=_map_entry(layer))


def _layer_entry(index: int, core: LayerCore | PoolUnit, files: dict[str, str]) -> LayerEntry:
    mems = tuple(_memory_entry(name, mem, files.get(f"{name}_l{index}")) for name, mem in core.memories().items())
    if core.kind == "pool":
        return _pool_entry(index, core, mems)
    layer, lif = core.layer, core.layer.lif
    return LayerEntry(
        index=index,
        instance=f"layer{index}",
        n_in=layer.n_in,
        n=layer.n_out,
        lanes=core.lanes,
        rows=core.rows,
        units=core.units,
        slices=core.slices,
        row_cycles=core.row_cycles,
        weight_quant=layer.weight_quant,
        weight_bits=core.weight_bits,
        membrane=lif.membrane,
        membrane_bits=core.membrane_bits,
        threshold=lif.threshold,
        delta=lif.delta,
        acc_bits=lif.acc_bits,
        leak_shift=lif.leak_shift,
        reset=lif.reset,
        current_bits=core.current_bits,
        has_bias=core.bias is not None,
        in_addr_bits=addr_bits(layer.n_in),
        out_addr_bits=addr_bits(layer.n_out),
        memories=mems,
        kind=core.kind,
        map=_map_entry(layer),
    )


def generate(network: GoldenNetwork, steps: int, lanes: int, out_dir, source: str = "", units: int | None = None,
             checkpoint: str = "") -> Manifest:
    """Write the RTL of `network` (T = `steps`, P = `lanes`, Q = `units` LIF units per layer,
    default one per lane) into `out_dir`; return its manifest.

    `source` (the model file it came from) and `checkpoint` (the SHA-256 of the model.pt behind it)
    are recorded in the manifest as given."""
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
        if core.kind == "pool":  # no weights, no bias
            continue
        lane_bits = core.weight_bits
        contents[f"weights_l{i}.hex"] = _hex_rows(core.weight_rows(), lane_bits)
        files[f"weights_l{i}"] = f"weights_l{i}.hex"
        if core.bias is not None:
            contents[f"bias_l{i}.hex"] = _hex_rows(core.bias_rows(), core.current_bits)
            files[f"bias_l{i}"] = files[f"currents_l{i}"] = f"bias_l{i}.hex"  # currents start at b
    ports = _ports(top)  # before elaboration: convert() consumes the component
    text = verilog.convert(top, name=TOP_NAME, emit_src=False)
    contents[f"{TOP_NAME}.v"] = text

    layers = tuple(_layer_entry(i, core, files) for i, core in enumerate(top.layers))
    aer = Aer(AER_PAYLOAD, addr_bits(network.n_in), addr_bits(network.layers[-1].n_out))
    taps = tuple(Tap(f"tap{i}", i, addr_bits(c.layer.n_out)) for i, c in enumerate(top.layers))
    manifest = Manifest(
        source=source,
        checkpoint_sha256=checkpoint,
        top=TOP_NAME,
        verilog=(f"{TOP_NAME}.v",),
        lanes=lanes,
        units=units,
        steps=steps,
        n_in=network.n_in,
        n_classes=network.layers[-1].n_out,
        count_bits=top.count_bits,
        ports=ports,
        aer=aer,
        taps=taps,
        layers=layers,
        memory_bits=MemoryBits.of_layers(layers),
        cycle_model=CycleParams.from_network(network, lanes, steps, units),
        generation_s=round(time.perf_counter() - start, 3),
    )
    contents[MANIFEST_FILE] = manifest.to_json()
    _write_atomically(out_dir, contents)
    return manifest


def _write_atomically(out_dir: Path, contents: dict[str, str]) -> None:
    """Write every file into a work folder beside `out_dir`, then swap it into place."""
    with building_dir(out_dir) as work:
        for name, text in contents.items():
            (work / name).write_text(text)
