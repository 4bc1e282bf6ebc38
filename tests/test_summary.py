"""`snn2fpga summary`: the demo's closing table reads what the stages wrote, and says "not run" otherwise."""

from __future__ import annotations

import json

from snn2fpga.cli import main
from snn2fpga.summary import NOT_RUN, summary_rows


def test_summary_of_a_fresh_run_says_not_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs" / "r").mkdir(parents=True)
    rows = {figure: value for figure, value, _ in summary_rows(tmp_path / "runs" / "r")}
    assert rows["test accuracy"] == NOT_RUN and rows["RTL (Verilator) vs golden"] == NOT_RUN
    assert rows["synthesis"] == NOT_RUN


def test_summary_reads_each_stage_and_derives_latency(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    run, build = tmp_path / "runs" / "r", tmp_path / "build" / "r"
    run.mkdir(parents=True)
    (run / "metrics.json").write_text(json.dumps({"test_accuracy": 0.969, "golden_test_accuracy": 0.969, "golden_agrees_with_model": True}))
    (build / "synth" / "ecp5").mkdir(parents=True)
    (build / "sim-batch.json").write_text(json.dumps({"passed": 200, "failed": 0, "mismatches": 0, "lanes": 32, "units": 1,
                                                       "cycles": {"n": 200, "equal_to_model": 200, "mean": 6739.0}}))
    (build / "synth" / "ecp5" / "report.json").write_text(json.dumps({
        "status": "ok", "device": "LFE5U-25F", "lut": 2214, "ff": 1177, "bram": 25, "dsp": 0, "fmax_mhz": 79.0, "lanes": 32, "units": 1}))
    rows = {figure: value for figure, value, _ in summary_rows(run)}
    assert rows["test accuracy (PyTorch, fake-quantized)"] == "96.9%"
    assert rows["RTL (Verilator) vs golden"].startswith("200 passed, 0 failed, 0 mismatches")
    assert rows["LFE5U-25F: LUT / FF / block RAM / DSP"] == "2,214 / 1,177 / 25 / 0"
    assert rows["latency per sample (mean cycles / Fmax)"] == "85.3 µs"  # 6739 / 79.0
    assert main(["summary", str(run)]) == 0
    assert "| Fmax | 79.0 MHz |" in capsys.readouterr().out


def test_reports_from_another_checkpoint_show_as_stale_not_as_numbers(tmp_path, monkeypatch):
    """A sim-batch report made from checkpoint A is not shown once model.pt is B; one from B is."""
    import hashlib

    monkeypatch.chdir(tmp_path)
    run, build = tmp_path / "runs" / "r", tmp_path / "build" / "r"
    run.mkdir(parents=True)
    build.mkdir(parents=True)
    (run / "model.pt").write_bytes(b"checkpoint B")
    old, new = hashlib.sha256(b"checkpoint A").hexdigest(), hashlib.sha256(b"checkpoint B").hexdigest()
    report = {"passed": 200, "failed": 0, "mismatches": 0, "cycles": {"n": 200, "equal_to_model": 200}}
    (build / "sim-batch.json").write_text(json.dumps({**report, "model": {"checkpoint_sha256": old}}))
    (build / "rtl").mkdir()
    (build / "rtl" / "manifest.json").write_text(json.dumps({"checkpoint_sha256": new}))
    (build / "rtl" / "snn_top.v").write_text("module snn_top; endmodule\n")
    rows = {figure: value for figure, value, _ in summary_rows(run)}
    assert rows["RTL (Verilator) vs golden"].startswith(f"stale: made from checkpoint {old[:12]}…, model.pt is {new[:12]}…")
    assert "snn2fpga sim-batch" in rows["RTL (Verilator) vs golden"]
    assert rows["Verilog"] == "written"  # the manifest records model.pt's own hash
    (build / "rtl" / "manifest.json").write_text(json.dumps({"checkpoint_sha256": old}))
    assert {f: v for f, v, _ in summary_rows(run)}["Verilog"].startswith("stale: made from checkpoint")
    (build / "sim-batch.json").write_text(json.dumps(report))  # an older report, recording no checkpoint
    rows = {figure: value for figure, value, _ in summary_rows(run)}
    assert rows["RTL (Verilator) vs golden"].startswith("stale: records no checkpoint")
    (build / "sim-batch.json").write_text(json.dumps({**report, "model": {"checkpoint_sha256": new}}))
    rows = {figure: value for figure, value, _ in summary_rows(run)}
    assert rows["RTL (Verilator) vs golden"].startswith("200 passed")
