"""`python -m rtl <model_dir | model.qonnx | network.json> --lanes P [--units Q] [--out DIR]` (DESIGN §2)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rtl.generate import GenerateError, generate
from train.golden import GoldenNetwork


def load_network(path: Path, steps: int | None) -> tuple[GoldenNetwork, int]:
    """(network, T) from a `.json` network (GoldenNetwork.save_json + a "steps" key), or
    through `export.load_network` from a QONNX file or a run folder holding model.qonnx."""
    if path.suffix == ".json":
        data = json.loads(path.read_text())
        t = steps if steps is not None else data.get("steps")
        if t is None:
            raise GenerateError(f"{path}: no 'steps' key; pass --steps")
        return GoldenNetwork.from_dict(data), int(t)
    target = path / "model.qonnx" if path.is_dir() else path
    if not target.exists():
        raise GenerateError(f"{target} not found (run `make export MODEL={path}` first)")
    try:
        from export import load_network as export_load  # the export stage, loaded only when needed
    except ImportError as exc:
        raise GenerateError(f"cannot read {target}: export.load_network is not available ({exc})") from exc
    network, meta = export_load(target)  # meta: an ExportMeta (its .steps is T) or T itself
    t = meta if isinstance(meta, int) else meta.steps
    return network, int(steps if steps is not None else t)


def _default_out(path: Path) -> Path:
    name = path.name if path.is_dir() else (path.parent.name if path.stem == "model" else path.stem)
    return Path("build") / name / "rtl"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rtl", description=__doc__)
    parser.add_argument("model", type=Path, help="run folder with model.qonnx, a .qonnx file, or a network .json")
    parser.add_argument("--lanes", "-P", type=int, default=16, help="lanes P per layer (default 16)")
    parser.add_argument("--units", "-Q", type=int, default=None,
                        help="LIF units per layer for the sweep (default: one per lane; fewer: smaller, sweep ⌈P/Q⌉× longer)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default build/<name>/rtl)")
    parser.add_argument("--steps", type=int, default=None, help="time steps T (default: from the model)")
    args = parser.parse_args(argv)
    try:
        network, steps = load_network(args.model, args.steps)
        out = args.out or _default_out(args.model)
        manifest = generate(network, steps, args.lanes, out, source=str(args.model), units=args.units)
    except (ValueError, FileNotFoundError) as exc:  # GenerateError, export's errors, bad paths
        print(f"error: {exc}", file=sys.stderr)
        return 2
    bits = manifest["memory_bits"]
    print(
        f"wrote {out}: {len(manifest['layers'])} layers, P={manifest['lanes']}, Q={manifest['units'] or 'P'}, T={steps}, "
        f"weights {bits['weights']} bits, membranes {bits['membranes']} bits, "
        f"{manifest['generation_s']:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
