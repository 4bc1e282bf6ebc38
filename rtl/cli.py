"""The `rtl`, `lint` and `rtl-figures` commands."""

from __future__ import annotations

import argparse
from pathlib import Path

from snn2fpga.core.cli import CheckFailed, Command, positive_int
from snn2fpga.core.files import write_json
from snn2fpga.core.paths import build_dir
from snn2fpga.export.cli import add_model_argument
from snn2fpga.rtl.point import add_point_arguments, point_of

RTL_FOLDER = "rtl"  # build/<name>/rtl/


def _rtl_arguments(p: argparse.ArgumentParser) -> None:
    add_model_argument(p)
    add_point_arguments(p)
    p.add_argument("--out", type=Path, default=None, help=f"output folder (default build/<name>/{RTL_FOLDER})")


def _rtl(args: argparse.Namespace) -> int:
    """Generate the Verilog, memory images and manifest of the model at the chosen design point."""
    from snn2fpga.export import resolve_model
    from snn2fpga.rtl.generate import generate

    model = resolve_model(args.model)
    point = point_of(args)
    out = args.out or build_dir(model.name) / RTL_FOLDER
    manifest = generate(model.network, model.steps, point.lanes, out, source=str(model.path), units=point.units,
                        checkpoint=model.meta.checkpoint_sha256)
    bits = manifest.memory_bits
    print(f"wrote {out}: {len(manifest.layers)} layers, {point.label}, T={model.steps}, "
          f"weights {bits.weights} bits, membranes {bits.membranes} bits, {manifest.generation_s:.2f} s")
    return 0


def _lint_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("rtl_dir", type=Path, help="folder written by `snn2fpga rtl` (holds snn_top.v)")


def _lint(args: argparse.Namespace) -> int:
    """`verilator --lint-only -Wall` with rtl/lint.vlt on the generated top."""
    from snn2fpga.rtl.lint import lint

    verilog = args.rtl_dir / "snn_top.v"
    if not verilog.is_file():
        raise FileNotFoundError(f"{verilog} not found; run `snn2fpga rtl MODEL --out {args.rtl_dir}` first")
    result = lint(verilog)
    print(result.stdout + result.stderr, end="")
    if result.returncode != 0:
        raise CheckFailed(f"verilator --lint-only -Wall {verilog}: warnings (above)")
    print(f"verilator --lint-only -Wall {verilog}: clean")
    return 0


def _figures_arguments(p: argparse.ArgumentParser) -> None:
    from snn2fpga.rtl.figures import LANES

    add_model_argument(p)
    p.add_argument("--lanes", type=positive_int, nargs="+", default=list(LANES), help="P values")
    p.add_argument("--data-dir", default=None, help="the model's dataset folder, if it moved since training")


def _figures(args: argparse.Namespace) -> int:
    """The README's RTL table: generation time, memory bits and predicted cycles at each P."""
    from snn2fpga.export import resolve_model
    from snn2fpga.rtl.figures import figures, markdown

    f = figures(args.model, args.lanes, args.data_dir)
    write_json(build_dir(resolve_model(args.model).name) / "rtl-figures.json", f)
    print(markdown(f))
    return 0


COMMANDS = (
    Command("rtl", "Generate the streaming LIF datapath (Amaranth → Verilog) into build/<name>/rtl/.", _rtl_arguments, _rtl),
    Command("lint", "Lint generated Verilog with verilator --lint-only -Wall.", _lint_arguments, _lint),
    Command("rtl-figures", "Generation time, memory and predicted cycles of a model at several P.", _figures_arguments, _figures),
)
