"""The `export` command, and the model argument every later command declares through it."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from snn2fpga.core.cli import Command, natural_int, positive_float, positive_int
from snn2fpga.core.contract import MEMBRANE_QUANTS, RESETS, WEIGHT_QUANTS


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


def add_import_arguments(p: argparse.ArgumentParser) -> None:
    """The import options; the quantizer defaults are the trainer's (TrainConfig)."""
    from snn2fpga.export.nir_float import SEMANTICS
    from snn2fpga.export.nir_import import DEFAULT_RESET, DEFAULT_SEMANTICS, FINETUNE_LR
    from snn2fpga.train.config import TrainConfig
    from snn2fpga.train.data.datasets import DATASETS

    d = TrainConfig()
    p.add_argument("model", type=Path, metavar="MODEL.nir", help="NIR file, e.g. from snnTorch's export_to_nir or Norse's to_nir")
    p.add_argument("--weights", default=d.weights, choices=WEIGHT_QUANTS, help="weight quantizer")
    p.add_argument("--membrane", default=d.membrane, choices=MEMBRANE_QUANTS, help="stored-membrane quantizer")
    p.add_argument("--reset", default=DEFAULT_RESET, choices=RESETS,
                   help="zero: NIR's reset to v_reset = 0; subtract: snnTorch's default reset (see docs/export.md)")
    p.add_argument("--source", default=DEFAULT_SEMANTICS, choices=SEMANTICS,
                   help="whose neuron semantics the float reference of the spike agreement follows: the graph's (nir, = Norse) "
                        "or snnTorch's Leaky with --reset's mechanism")
    p.add_argument("--acc-bits", type=positive_int, default=d.acc_bits, help="membrane accumulator width A")
    p.add_argument("--steps", type=positive_int, default=None, help=f"time steps T (default: the graph's, else {d.steps})")
    p.add_argument("--dt", type=positive_float, default=None,
                   help="the graph's time step (default: its metadata, else τ/r of its first LIF as snnTorch writes it; Norse: 0.001)")
    p.add_argument("--data", default=None, choices=sorted(DATASETS), help="dataset to score (and fine-tune) on")
    p.add_argument("--data-dir", default=None, help="dataset folder (datasets that are not embedded)")
    p.add_argument("--pool", type=positive_int, default=None, help="input pooling factor (default: the dataset's)")
    p.add_argument("--finetune-epochs", type=natural_int, default=0, help="quantization-aware fine-tuning epochs on --data")
    p.add_argument("--lr", type=positive_float, default=FINETUNE_LR, help="fine-tuning learning rate")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--out", type=Path, default=None, help="run folder (default runs/<file stem>-<weights>-<membrane>)")
    p.add_argument("--overwrite", action="store_true", help="replace a model in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def run_import(args: argparse.Namespace) -> int:
    """Import, then print the run folder, the mapping, the agreement and the accuracies."""
    from snn2fpga.core.paths import RUNS
    from snn2fpga.export.nir_import import import_nir

    out = args.out if args.out is not None else RUNS / f"{args.model.stem}-{args.weights}-{args.membrane}"
    t0 = time.perf_counter()
    result = import_nir(args.model, out, args.weights, args.membrane, reset=args.reset, acc_bits=args.acc_bits,
                        steps=args.steps, dt=args.dt, dataset=args.data, data_dir=args.data_dir, pool=args.pool,
                        finetune_epochs=args.finetune_epochs, lr=args.lr, seed=args.seed, semantics=args.source,
                        overwrite=args.overwrite,
                        progress=not args.quiet)
    print(f"wrote {result.out} (model.pt, config.json, metrics.json, model.qonnx, model.nir) in {time.perf_counter() - t0:.1f} s")
    for line in result.summary():
        print(line)
    return 0


IMPORT = Command("import", "Import a NIR graph (snnTorch, Norse, …): quantize, optionally fine-tune, write runs/<name>/.",
                 add_import_arguments, run_import)
