"""The `export` command, and the model argument every later command declares through it."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from snn2fpga.core.cli import Command


def add_model_argument(parser: argparse.ArgumentParser) -> None:
    """The positional MODEL of every hardware command: what `resolve_model` accepts."""
    parser.add_argument("model", type=Path, metavar="MODEL",
                        help="run folder runs/<name>/ (exported first if needed), a .qonnx or a .nir file")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", type=Path, help="run folder runs/<name>/ holding model.pt and config.json")
    p.add_argument("--out", type=Path, default=None, help="output .qonnx path (default: <run>/model.qonnx)")
    p.add_argument("--no-check", action="store_true", help="skip reading the file back and comparing with the golden model")
    p.add_argument("--no-nir", action="store_true", help="do not write <run>/model.nir")
    p.add_argument("--cost", action="store_true", help="print the full inference-cost report as JSON")


def run(args: argparse.Namespace) -> int:
    """Export, then print the files written, the time and the per-step cost."""
    from snn2fpga.export.cost import inference_cost
    from snn2fpga.export.nir_bridge import export_nir
    from snn2fpga.export.qonnx_export import export_model

    t0 = time.perf_counter()
    path = export_model(args.run, args.out, check=not args.no_check)
    seconds = time.perf_counter() - t0
    nir_path = None if args.no_nir else export_nir(path)
    cost = inference_cost(path)
    ps = cost["per_step"]
    print(f"wrote {path} ({path.stat().st_size / 1024:.1f} KiB) in {seconds:.1f} s{' (checked against the golden model)' if not args.no_check else ''}")
    if nir_path is not None:
        print(f"wrote {nir_path} ({nir_path.stat().st_size / 1024:.1f} KiB)")
    print(
        f"per step: {ps['macs']} MACs, {ps['neuron_updates']} neuron updates; "
        f"weights {ps['weight_bits'] / 8 / 1024:.1f} KiB, membrane state {ps['state_bits'] / 8 / 1024:.2f} KiB"
    )
    if args.cost:
        print(json.dumps(cost, indent=2))
    return 0


COMMAND = Command("export", "Export a trained run to QONNX (LIF as a custom op) and NIR.", add_arguments, run)
