"""The Python API for notebooks and scripts: the pipeline's steps as functions.

    import snn2fpga as s2f
    run = s2f.train_network(dataset="saccade-digits", epochs=1, hidden=[32], out="runs/notebook")
    model = s2f.resolve_model(run)            # exports runs/notebook/model.qonnx
    s2f.generate_rtl(model, "build/notebook/rtl", lanes=16)
    result = s2f.simulate(model, samples=10, lanes=16)
    print(result.mismatches, result.cycles)

Each function is what the matching `snn2fpga` subcommand runs, without the command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Union

import numpy as np

from snn2fpga.core.paths import RUNS
from snn2fpga.export import ResolvedModel, resolve_model, test_split
from snn2fpga.rtl.point import DEFAULT_LANES, DEFAULT_UNITS, DesignPoint

if TYPE_CHECKING:
    from snn2fpga.rtl.manifest import Manifest


def train_network(out: Union[str, Path, None] = None, progress: bool = False, device: str = "cpu", **config) -> Path:
    """Train per `TrainConfig(**config)` on `device` (cpu, cuda, auto) into `out` (default
    runs/<dataset>-<weights>-<membrane>); return the run folder."""
    from snn2fpga.train.config import TrainConfig
    from snn2fpga.train.device import resolve_device
    from snn2fpga.train.distributed import Placement
    from snn2fpga.train.pipeline import run_training

    cfg = TrainConfig(**config)
    folder = Path(out) if out is not None else RUNS / cfg.name
    run_training(cfg, folder, progress=progress, place=Placement(resolve_device(device)))
    return folder


def import_nir(path: Union[str, Path], out: Union[str, Path, None] = None, weights: Optional[str] = None,
               membrane: Optional[str] = None, **options) -> Path:
    """Quantize a float NIR graph (snnTorch, Norse, …) into a run folder, as `snn2fpga import` does; returns the folder.

    `options` are `snn2fpga.export.nir_import.import_nir`'s: reset, semantics, dt, steps,
    dataset, data_dir, pool, finetune_epochs, lr, seed, acc_bits, overwrite, progress."""
    from snn2fpga.export.nir_import import import_nir as run_import
    from snn2fpga.train.config import TrainConfig

    weights, membrane = weights or TrainConfig().weights, membrane or TrainConfig().membrane  # the trainer's defaults
    path = Path(path)
    out = Path(out) if out is not None else RUNS / f"{path.stem}-{weights}-{membrane}"
    return run_import(path, out, weights, membrane, **options).out


def generate_rtl(model: Union[str, Path, ResolvedModel], out: Union[str, Path], lanes: int = DEFAULT_LANES,
                 units: Optional[int] = DEFAULT_UNITS) -> Manifest:
    """Verilog, memory images and manifest.json of `model` at P = lanes, Q = units, into `out`; returns the Manifest."""
    from snn2fpga.rtl.generate import generate

    m = model if isinstance(model, ResolvedModel) else resolve_model(model)
    point = DesignPoint(lanes, units)
    return generate(m.network, m.steps, point.lanes, Path(out), source=str(m.path), units=point.units)


@dataclass(frozen=True)
class SimResult:
    """What the RTL did against the golden model, over `samples` of the model's test split."""

    samples: int
    mismatches: int  # spike, count, class or cycle mismatches, over every layer and step
    cycles: np.ndarray  # measured cycles per sample
    predicted_cycles: np.ndarray  # the cycle model's
    report: str  # "N passed, M failed" and the first mismatches


def simulate(model: Union[str, Path, ResolvedModel], samples: int = 10, lanes: int = DEFAULT_LANES,
             units: Optional[int] = DEFAULT_UNITS) -> SimResult:
    """Run the first `samples` test samples through the RTL in the Verilator batch harness."""
    from snn2fpga.rtl.cycle_model import CycleParams
    from snn2fpga.sim.batch import check, run_harness
    from snn2fpga.sim.design import prepare_design
    from snn2fpga.sim.reference import Expectations

    m = model if isinstance(model, ResolvedModel) else resolve_model(model)
    point = DesignPoint(lanes, units)
    x = test_split(m).test_x[:samples]
    design = prepare_design(m.network, m.steps, point.lanes, units=point.units)
    expect = Expectations.from_golden(m.network, x, CycleParams.from_manifest(design.manifest))
    records, _, _ = run_harness(design, expect)
    report = check(expect, records, stalled=False)
    return SimResult(len(x), len(report.mismatches), np.array([r.cycles for r in records]), np.asarray(expect.cycles),
                     report.describe())
