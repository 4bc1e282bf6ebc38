"""`snn2fpga rtl-figures runs/<name>`: the RTL figures of a trained model (README "Results").

For each P: generation time, memory bits (weights, membrane state) from the manifest, and
the cycle model's cycles per sample over the model's whole test set (golden spike counts
→ `predict_cycles`, the model the simulations hold the RTL to). Membrane bits are also
given for int8 and full membranes on the same network (same N, same weights): the state
memory is structural, N·m bits. Writes build/<name>/rtl-figures.json and prints Markdown.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np

from snn2fpga.core.contract import LIFParams, default_delta, membrane_code_bits
from snn2fpga.core.golden import GoldenNetwork
from snn2fpga.export import resolve_model, test_split
from snn2fpga.rtl.cycle_model import predict_cycles, spike_counts
from snn2fpga.rtl.generate import generate

LANES = (1, 4, 16, 64)
MEMBRANES = ("ternary", "int8", "full")


def with_membrane(network: GoldenNetwork, membrane: str) -> GoldenNetwork:
    """The same network with every layer's stored membrane quantized as `membrane` (Δ by default_delta)."""
    layers = []
    for layer in network.layers:
        p = layer.lif
        if p is None:  # a pool has no membrane
            layers.append(layer)
            continue
        lif = LIFParams(**{**dataclasses.asdict(p), "membrane": membrane, "delta": default_delta(membrane, p.threshold)})
        layers.append(dataclasses.replace(layer, lif=lif))
    return GoldenNetwork(layers)


def figures(model: Path, lanes=LANES, data_dir: str | None = None) -> dict:
    """Generate the design at every P (into a temporary folder) and measure it on the model's test split."""
    resolved = resolve_model(model)
    network, steps = resolved.network, resolved.steps
    ds = test_split(resolved, data_dir)
    x, what = ds.test_x, f"{ds.name} test set ({len(ds.test_x)} samples)"
    golden = network.run(x)
    counts = spike_counts(x, golden)
    out = {"model": str(model), "test_set": what, "mean_spikes_per_step": counts.mean(axis=(0, 1)).round(2).tolist(),
           "lanes": {}, "membrane_state_bits": {}}
    for m in MEMBRANES:
        net = network if m == network.layers[network.lif_layers[0]].lif.membrane else with_membrane(network, m)
        out["membrane_state_bits"][m] = sum(layer.n_out * membrane_code_bits(m, layer.lif.acc_bits)
                                            for layer in net.layers if layer.lif is not None)
    with tempfile.TemporaryDirectory(prefix="rtl-figures-") as tmp:
        for p in lanes:
            t0 = time.perf_counter()
            manifest = generate(network, steps, p, Path(tmp) / f"p{p}")
            wall = time.perf_counter() - t0
            cycles = predict_cycles(manifest, golden, inputs=x)  # a conv layer's cycles need the spikes
            out["lanes"][p] = {
                "generation_s": round(wall, 2),
                "verilog_bytes": (Path(tmp) / f"p{p}" / "snn_top.v").stat().st_size,
                "rows": [layer.rows for layer in manifest.layers],
                "memory_bits": manifest.memory_bits.to_dict(),
                "cycles": {"mean": round(float(cycles.mean()), 1), "min": int(cycles.min()), "max": int(cycles.max()),
                           "p99": int(np.percentile(cycles, 99, method="higher"))},
            }
    return out


def markdown(f: dict) -> str:
    """The README table of `figures()`."""
    bits = f["membrane_state_bits"]
    first = next(iter(f["lanes"].values()))["memory_bits"]
    lines = ["Membrane state N·m (bits): " + ", ".join(f"{m} {b:,}" for m, b in bits.items())
             + f"; weight codes {first['weight_codes']:,} bits.", "",
             "| P | generation (s) | `snn_top.v` | rows per layer | weight memory (bits) | membrane memory (bits) "
             f"| predicted cycles / sample, {f['test_set']}: mean (min–max) |", "|---|---|---|---|---|---|---|"]
    for p, q in f["lanes"].items():
        c = q["cycles"]
        lines.append(f"| {p} | {q['generation_s']} | {q['verilog_bytes'] / 1e6:.2f} MB | {', '.join(map(str, q['rows']))} "
                     f"| {q['memory_bits']['weights']:,} | {q['memory_bits']['membranes']:,} "
                     f"| {c['mean']:,.0f} ({c['min']:,}–{c['max']:,}) |")
    return "\n".join(lines)
