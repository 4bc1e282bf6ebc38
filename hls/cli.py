"""The `hls` command: hls4ml project into build/<name>/hls/, compiled, checked in C simulation.

The check runs the model's held-out test samples (`export.test_split`; random spikes for
a bare network that records no data) through the C simulation and the golden model and
compares every layer's spikes at every step. `--synth` then runs the vendor flow.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from snn2fpga.core.cli import CheckFailed, Command, positive_int
from snn2fpga.core.paths import build_dir
from snn2fpga.export.cli import add_model_argument

HLS_FOLDER = "hls"


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_model_argument(p)
    p.add_argument("--out", type=Path, default=None, help=f"project folder (default build/<name>/{HLS_FOLDER})")
    p.add_argument("--backend", default="Vitis", choices=["Vitis", "Vivado"], help="hls4ml backend")
    p.add_argument("--part", default=None, help="FPGA part (default: hls4ml's xcvu13p-flga2577-2-e)")
    p.add_argument("--clock", type=float, default=None, help="clock period in ns (default 5)")
    p.add_argument("--reuse-factor", type=positive_int, default=None, help="reuse factor of every Dense layer (default: by size)")
    p.add_argument("--samples", type=positive_int, default=200, help="test samples to check")
    p.add_argument("--data-dir", default=None, help="the model's dataset folder, if it moved since training")
    p.add_argument("--seed", type=int, default=0, help="seed of the random samples of a model that records no data")
    p.add_argument("--synth", action="store_true", help="then run Vitis/Vivado HLS: C synthesis, co-simulation, IP export")


def _samples(model, count: int, data_dir, seed: int) -> tuple[np.ndarray, str]:
    """The model's test samples, or random spikes for a bare network."""
    from snn2fpga.export import test_split

    if model.data is None:
        x = (np.random.default_rng(seed).random((count, model.steps, model.network.n_in)) < 0.05).astype(np.uint8)
        return x, f"{count} random samples (the model records no dataset)"
    ds = test_split(model, data_dir)
    return ds.test_x[:count], f"{min(count, len(ds.test_x))} {ds.name} test samples"


def run(args: argparse.Namespace) -> int:
    from snn2fpga.core.files import write_json
    from snn2fpga.export import resolve_model
    from snn2fpga.hls.build import DEFAULT_CLOCK_NS, DEFAULT_PART, build_hls

    model = resolve_model(args.model)
    out = args.out or build_dir(model.name) / HLS_FOLDER
    x, what = _samples(model, args.samples, args.data_dir, args.seed)
    t0 = time.perf_counter()
    runner = build_hls(model.path, out, backend=args.backend, part=args.part or DEFAULT_PART,
                       clock_period=args.clock or DEFAULT_CLOCK_NS, reuse_factor=args.reuse_factor, tb_spikes=x[:4])
    build_s = time.perf_counter() - t0
    print(f"wrote {out} ({args.backend}, {len(runner.layer_sizes)} layers) and compiled it in {build_s:.1f} s")
    result = runner.compare(x)
    print(f"C simulation vs golden model on {what}: {result.summary()}")
    write_json(out / "csim_check.json", {
        "model": model.origin().to_dict(),
        "samples": result.samples,
        "steps": result.steps,
        "inputs": what,
        "spike_mismatches_per_layer": result.mismatches,
        "class_mismatches": result.label_mismatches,
        "csim_ms_per_sample": result.csim_s_per_sample * 1e3,
        "golden_ms_per_sample": result.golden_s_per_sample * 1e3,
        "build_seconds": build_s,
    })
    if not result.ok:
        raise CheckFailed(f"C simulation differs from the golden model: {result.summary()} ({out}/csim_check.json)")
    if args.synth:
        from snn2fpga.hls.synth import synthesize

        synthesize(runner)
        print(f"vendor HLS flow done in {out}; co-simulation spikes equal the golden model's")
    return 0


COMMAND = Command("hls", "hls4ml project of a model (LIF as an extension layer), compiled and checked in C simulation.",
                  add_arguments, run)
