"""The `summary` command: one table of what the pipeline measured for a model, and where each artifact is.

It only reads what the other commands wrote (metrics.json, csim_check.json, sim-batch.json,
the synthesis report); a step that has not run shows as "not run", never as a number, and a
report made from another checkpoint than the run's model.pt (each records the SHA-256 of the
checkpoint it came from) shows as "stale", with the command that remakes it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Optional

from snn2fpga.core.cli import Command
from snn2fpga.core.files import file_sha256
from snn2fpga.core.paths import build_dir
from snn2fpga.synth.targets import DEFAULT_TARGET

NOT_RUN = "not run"


def _read(path: Path) -> Optional[dict]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _recorded_checkpoint(report: dict, *keys: str) -> str:
    """The checkpoint hash a report records under `keys` ("" if it records none, as older reports)."""
    for key in keys:
        report = report.get(key) if isinstance(report, dict) else None
    return report if isinstance(report, str) else ""


def stale_note(recorded: str, current: Optional[str], command: str) -> Optional[str]:
    """Why a report cannot be shown as current (None if it can): it came from another checkpoint than model.pt."""
    if current is None or recorded == current:
        return None
    if not recorded:
        return f"stale: records no checkpoint (older report); rerun `{command}`"
    return f"stale: made from checkpoint {recorded[:12]}…, model.pt is {current[:12]}…; rerun `{command}`"


def summary_rows(run: Path, target: str = DEFAULT_TARGET) -> list[tuple[str, str, str]]:
    """(figure, value, file) rows for the run folder `run` and its build/<name>/ outputs."""
    name = run.resolve().name
    build = build_dir(name)
    ckpt = run / "model.pt"
    current = file_sha256(ckpt) if ckpt.is_file() else None
    metrics, csim = _read(run / "metrics.json"), _read(build / "hls" / "csim_check.json")
    batch, synth = _read(build / "sim-batch.json"), _read(build / "synth" / target / "report.json")
    manifest = _read(build / "rtl" / "manifest.json")
    stale = {
        "hls": csim and stale_note(_recorded_checkpoint(csim, "model", "checkpoint_sha256"), current, f"snn2fpga hls {run}"),
        "sim": batch and stale_note(_recorded_checkpoint(batch, "model", "checkpoint_sha256"), current, f"snn2fpga sim-batch {run}"),
        "synth": synth and stale_note(_recorded_checkpoint(synth, "model", "checkpoint_sha256"), current, f"snn2fpga synth {run}"),
        "rtl": manifest and stale_note(_recorded_checkpoint(manifest, "checkpoint_sha256"), current, f"snn2fpga rtl {run}"),
    }
    if stale["hls"]:
        csim = None
    if stale["sim"]:
        batch = None
    if stale["synth"]:
        synth = None
    rows = []
    if metrics:
        rows.append(("test accuracy (PyTorch, fake-quantized)", f"{metrics['test_accuracy']:.1%}", str(run / "metrics.json")))
        rows.append(("golden model accuracy", f"{metrics['golden_test_accuracy']:.1%} (same decisions: "
                     f"{'yes' if metrics['golden_agrees_with_model'] else 'NO'})", str(run / "model.pt")))
    else:
        rows.append(("test accuracy", NOT_RUN, str(run / "metrics.json")))
    qonnx = run / "model.qonnx"
    rows.append(("QONNX export", "written" if qonnx.is_file() else NOT_RUN, str(qonnx)))
    rtl = build / "rtl" / "snn_top.v"
    rows.append(("Verilog", stale["rtl"] or ("written" if rtl.is_file() else NOT_RUN), str(rtl)))
    if csim:
        rows.append(("HLS C simulation vs golden", f"{sum(csim['spike_mismatches_per_layer'])} spike mismatches, "
                     f"{csim['class_mismatches']} class mismatches over {csim['samples']} samples", str(build / "hls")))
    else:
        rows.append(("HLS C simulation vs golden", stale["hls"] or NOT_RUN, str(build / "hls")))
    if batch:
        cyc = batch.get("cycles", {})
        rows.append(("RTL (Verilator) vs golden", f"{batch['passed']} passed, {batch['failed']} failed, {batch['mismatches']} mismatches; "
                     f"cycle model exact on {cyc.get('equal_to_model')}/{cyc.get('n')}", str(build / "sim-batch.json")))
    else:
        rows.append(("RTL (Verilator) vs golden", stale["sim"] or NOT_RUN, str(build / "sim-batch.json")))
    if synth and synth.get("status") == "ok":
        rows.append((f"{synth['device']}: LUT / FF / block RAM / DSP",
                     f"{synth['lut']:,} / {synth['ff']:,} / {synth['bram']} / {synth['dsp']}", str(build / "synth" / target)))
        fmax = synth.get("fmax_mhz")
        rows.append(("Fmax", f"{fmax:.1f} MHz" if fmax else NOT_RUN, str(build / "synth" / target / "report.json")))
        same_point = batch and (batch.get("lanes"), batch.get("units")) == (synth.get("lanes"), synth.get("units"))
        if fmax and same_point and batch.get("cycles", {}).get("mean"):
            rows.append(("latency per sample (mean cycles / Fmax)", f"{batch['cycles']['mean'] / fmax:.1f} µs", str(build / "sim-batch.json")))
    else:
        rows.append(("synthesis", stale["synth"] or (NOT_RUN if not synth else synth.get("status", "?")), str(build / "synth" / target)))
    bench = build / "bench.md"
    rows.append(("design-point sweep", "written" if bench.is_file() else NOT_RUN, str(bench)))
    return rows


def markdown(rows: list[tuple[str, str, str]]) -> str:
    lines = ["| figure | value | where |", "|---|---|---|"]
    lines += [f"| {a} | {b} | `{c}` |" for a, b, c in rows]
    return "\n".join(lines)


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run", type=Path, help="run folder runs/<name>/")
    p.add_argument("--target", default=DEFAULT_TARGET, help="which synthesis report to read")


def _run(args: argparse.Namespace) -> int:
    if not args.run.is_dir():
        raise FileNotFoundError(f"{args.run}: no such run folder")
    print(markdown(summary_rows(args.run, args.target)))
    return 0


COMMAND = Command("summary", "One table of what the pipeline measured for a run, and where each artifact is.", _arguments, _run)
