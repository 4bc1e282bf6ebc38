"""`python -m hls runs/<name>`: hls4ml project into build/<name>/hls/, compiled, checked in C simulation.

Exports the run first if runs/<name>/model.qonnx is missing. The check runs the test
samples of the run's dataset (random spikes if the dataset is not on disk) through the
C simulation and the golden model and compares every layer's spikes at every step.
`--synth` then runs the vendor flow (Vitis HLS: C synthesis + co-simulation + IP export).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np


def _model_file(run: Path) -> Path:
    """The run's model.qonnx, exporting it first when only model.pt is there."""
    from export.qonnx_export import MODEL_FILE

    if run.is_file():
        return run
    path = run / MODEL_FILE
    if not path.exists() and (run / "model.pt").exists():
        from export import export_model

        print(f"{path} missing: exporting {run} first")
        export_model(run)
    return path


def _samples(meta, n_in: int, count: int, data_dir: str | None, seed: int) -> tuple[np.ndarray, str]:
    """Test samples [count, T, N_in] of the model's dataset, or random spikes when it is not available."""
    if meta.dataset:
        try:
            from train.data import load_dataset

            ds = load_dataset(meta.dataset, data_dir, steps=meta.steps, pool=meta.pool)
            if ds.n_in == n_in:
                return ds.test_x[:count], f"{min(count, len(ds.test_x))} {meta.dataset} test samples"
        except (ValueError, OSError) as e:
            print(f"dataset {meta.dataset!r} not available ({e}); using random spikes")
    x = (np.random.default_rng(seed).random((count, meta.steps, n_in)) < 0.05).astype(np.uint8)
    return x, f"{count} random samples"


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the process exit status."""
    ap = argparse.ArgumentParser(prog="python -m hls", description="hls4ml project of a run, checked in C simulation.")
    ap.add_argument("run", type=Path, help="run folder runs/<name>/ (or a .qonnx file)")
    ap.add_argument("--out", type=Path, default=None, help="project folder (default: build/<name>/hls)")
    ap.add_argument("--backend", default="Vitis", choices=["Vitis", "Vivado"], help="hls4ml backend (default Vitis)")
    ap.add_argument("--part", default=None, help="FPGA part (default: hls4ml's xcvu13p-flga2577-2-e)")
    ap.add_argument("--clock", type=float, default=None, help="clock period in ns (default 5)")
    ap.add_argument("--reuse-factor", type=int, default=None, help="reuse factor of every Dense layer (default: by size)")
    ap.add_argument("--samples", type=int, default=200, help="test samples to check (default 200)")
    ap.add_argument("--data-dir", default=None, help="dataset folder (needed for nmnist)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the random samples used when no dataset is on disk")
    ap.add_argument("--synth", action="store_true", help="then run Vitis/Vivado HLS: C synthesis, co-simulation, IP export")
    args = ap.parse_args(argv)

    from export.errors import ExportError
    from hls.build import DEFAULT_CLOCK_NS, DEFAULT_PART, build_hls
    from hls.errors import HlsError
    from train.files import write_json

    run = args.run
    name = (run.parent if run.is_file() else run).resolve().name
    out = args.out or Path("build") / name / "hls"
    try:
        path = _model_file(run)
        from export import load_network

        golden, meta = load_network(path)
        x, what = _samples(meta, golden.n_in, args.samples, args.data_dir, args.seed)
        t0 = time.perf_counter()
        runner = build_hls(
            path,
            out,
            backend=args.backend,
            part=args.part or DEFAULT_PART,
            clock_period=args.clock or DEFAULT_CLOCK_NS,
            reuse_factor=args.reuse_factor,
            tb_spikes=x[:4],
        )
        build_s = time.perf_counter() - t0
        print(f"wrote {out} ({args.backend}, {len(runner.layer_sizes)} layers) and compiled it in {build_s:.1f} s")
        result = runner.compare(x)
        print(f"C simulation vs golden model on {what}: {result.summary()}")
        write_json(
            out / "csim_check.json",
            {
                "samples": result.samples,
                "steps": result.steps,
                "inputs": what,
                "spike_mismatches_per_layer": result.mismatches,
                "class_mismatches": result.label_mismatches,
                "csim_ms_per_sample": result.csim_s_per_sample * 1e3,
                "golden_ms_per_sample": result.golden_s_per_sample * 1e3,
                "build_seconds": build_s,
            },
        )
        if not result.ok:
            return 1
        if args.synth:
            from hls.synth import synthesize

            synthesize(runner)
            print(f"vendor HLS flow done in {out}; co-simulation spikes equal the golden model's")
    except (HlsError, ExportError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
