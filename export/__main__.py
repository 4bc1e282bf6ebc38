"""`python -m export runs/<name>`: write runs/<name>/model.qonnx (and model.nir), print size, time and cost."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the process exit status."""
    ap = argparse.ArgumentParser(prog="python -m export", description="Export a trained run to QONNX (and NIR).")
    ap.add_argument("run", type=Path, help="run folder runs/<name>/ holding model.pt and config.json")
    ap.add_argument("--out", type=Path, default=None, help="output .qonnx path (default: <run>/model.qonnx)")
    ap.add_argument("--no-check", action="store_true", help="skip reading the file back and comparing with the golden model")
    ap.add_argument("--no-nir", action="store_true", help="do not write <run>/model.nir")
    ap.add_argument("--cost", action="store_true", help="print the full inference-cost report as JSON")
    args = ap.parse_args(argv)

    from export.cost import inference_cost
    from export.errors import ExportError
    from export.nir_bridge import export_nir
    from export.qonnx_export import export_model

    t0 = time.perf_counter()
    try:
        path = export_model(args.run, args.out, check=not args.no_check)
        seconds = time.perf_counter() - t0
        nir_path = None if args.no_nir else export_nir(path)
        cost = inference_cost(path)
    except (ExportError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
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


if __name__ == "__main__":
    sys.exit(main())
