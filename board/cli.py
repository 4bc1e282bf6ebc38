"""`snn2fpga board` (a bitstream for a board) and `snn2fpga run-board` (samples through it).

    snn2fpga board MODEL --board ulx3s-85f [--baud 1000000] [-P 32] [-Q 1] [--out DIR]
    snn2fpga run-board MODEL --port /dev/ttyUSB0 [--baud 1000000] [--n N] [--files …]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from snn2fpga.board.boards import BOARDS, DEFAULT_BAUD
from snn2fpga.core.cli import CheckFailed, Command, positive_float, positive_int
from snn2fpga.core.files import write_json
from snn2fpga.core.paths import build_dir
from snn2fpga.export.cli import add_model_argument
from snn2fpga.rtl.point import add_point_arguments, point_of

RUN_REPORT = "run-board.json"


def add_board_arguments(p: argparse.ArgumentParser) -> None:
    add_model_argument(p)
    p.add_argument("--board", required=True, help=f"one of: {', '.join(BOARDS)}")
    add_point_arguments(p)
    p.add_argument("--baud", type=positive_int, default=DEFAULT_BAUD, help="UART baud rate (8N1)")
    p.add_argument("--timeout", type=positive_float, default=3600.0, help="seconds the tool flow may take")
    p.add_argument("--out", type=Path, default=None, help="output folder (default build/<name>/board/<board>)")


def run_board_build(args: argparse.Namespace) -> int:
    from snn2fpga.board.boards import check_fits, get_board
    from snn2fpga.board.budget import throughput
    from snn2fpga.board.build import build_board
    from snn2fpga.export import resolve_model
    from snn2fpga.sim.samples import dataset_samples

    board = get_board(args.board)  # an unknown name fails before the model is read
    model = resolve_model(args.model)
    check_fits(model.network, board)
    point = point_of(args)
    out = args.out or build_dir(model.name) / "board" / board.name
    samples = dataset_samples(model)  # the model's own test split: the link's and the datapath's rates on real samples
    rate = throughput(model.network, model.steps, point.lanes, point.units, samples.x, args.baud, board.clk_hz)
    report = build_board(model.network, model.steps, point, board, out, baud=args.baud, timeout=args.timeout,
                         model={"path": str(model.path), "name": model.name}, extra={"throughput": rate.to_dict()})
    met = "met" if report["timing_met"] else "NOT met"
    rate = report["throughput"]
    print(f"{board.title}: {out / report['bitstream']['file']} ({report['bitstream']['bytes']:,} bytes) in "
          f"{report['runtime_s']['total']} s")
    print(f"LUT {report['lut']:,} (logic cells after P&R {report['lut_pnr']:,}), FF {report['ff']:,}, "
          f"block RAM {report['bram']}, DSP {report['dsp']}, LUT RAM {report['lutram']}; Fmax {report['fmax_mhz']} MHz, "
          f"{report['clk_mhz']:g} MHz {met}; UART {args.baud:,} baud, FIFO {report['fifo']['depth']} bytes")
    print(f"{rate['samples']} test samples: the link carries {rate['link_samples_per_s']} samples/s "
          f"({rate['mean_input_spikes']} input spikes a sample), the datapath {rate['datapath_samples_per_s']} "
          f"({rate['mean_cycles']} cycles at {rate['clk_mhz']:g} MHz)")
    return 0


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    add_model_argument(p)
    p.add_argument("--port", required=True, help="serial port of the board (a pyserial URL also works, e.g. loop://)")
    p.add_argument("--baud", type=positive_int, default=DEFAULT_BAUD, help="the baud rate the bitstream was built for")
    p.add_argument("--n", type=positive_int, default=None, help="samples to run (default: all)")
    p.add_argument("--data-dir", "--data", default=None, help="the model's dataset folder, if it moved since training")
    p.add_argument("--files", type=Path, nargs="+", default=None,
                   help="event files in the model's dataset format, instead of its test split")
    p.add_argument("--timeout", type=positive_float, default=2.0, help="seconds to wait for each answer")
    p.add_argument("--out", type=Path, default=None, help=f"JSON report (default build/<name>/{RUN_REPORT})")


def run_on_board(args: argparse.Namespace) -> int:
    from snn2fpga.board.budget import link_samples_per_s
    from snn2fpga.board.host import BoardClient
    from snn2fpga.board.runner import run_board
    from snn2fpga.board.serial_link import SerialLink
    from snn2fpga.export import resolve_model
    from snn2fpga.sim.samples import dataset_samples, file_samples

    model = resolve_model(args.model)
    samples = file_samples(model, args.files) if args.files else dataset_samples(model, data_dir=args.data_dir)
    if args.n is not None:
        if args.n > len(samples):
            raise ValueError(f"--n {args.n}: only {len(samples)} samples; lower --n or give more --files")
        samples = samples.first(args.n)
    link = SerialLink(args.port, args.baud)
    try:
        client = BoardClient(link, model.network.layers[-1].n_out, args.timeout)
        t0 = time.perf_counter()
        client.reset(settle=0.05)
        run = run_board(client, model.network, samples.x, samples.truth, samples.tags)
        wall = time.perf_counter() - t0
    finally:
        link.close()
    mean_spikes = float(samples.x.sum(axis=(1, 2)).mean())
    bound = link_samples_per_s(args.baud, model.steps, mean_spikes)
    report = run.to_dict() | {"model": str(model.path), "port": args.port, "baud": args.baud, "wall_s": round(wall, 2),
                              "link_bound_samples_per_s": round(bound, 2)}
    out = args.out or build_dir(model.name) / RUN_REPORT
    write_json(out, report)
    acc = f"{run.accuracy:.1%}" if run.accuracy is not None else "n/a"
    print(f"{run.samples} samples: accuracy {acc}, {len(run.mismatches)} mismatches with the golden model, "
          f"{run.samples_per_s:.1f} samples/s (the link allows {bound:.1f} at {args.baud:,} baud); report {out}")
    for line in run.mismatches[:10]:
        print(f"  {line}")
    if run.mismatches:
        raise CheckFailed(f"{len(run.mismatches)} answers differ from the golden model (report {out})")
    return 0


COMMANDS = (
    Command("board", "Build a bitstream of the model for an FPGA board (UART event interface, open tools).",
            add_board_arguments, run_board_build),
    Command("run-board", "Stream test samples through a programmed board over its serial port; compare with the golden model.",
            add_run_arguments, run_on_board),
)
