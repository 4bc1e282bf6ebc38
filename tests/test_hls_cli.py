"""`snn2fpga hls runs/<name>`: export if needed, project written atomically, compiled, checked; errors exit 2."""

from __future__ import annotations

import json


def test_cli_exports_builds_and_checks(tmp_path, capsys):
    from snn2fpga.export.testing import make_run, random_spikes
    from snn2fpga.cli import main

    run = make_run(tmp_path / "runs" / "tiny", random_spikes(16, 4, 24, rate=0.2), n_classes=3, hidden=[6], steps=4)
    out = tmp_path / "build" / "tiny" / "hls"
    out.mkdir(parents=True)
    (out / "stale.txt").write_text("from an earlier build")
    assert main(["hls", str(run), "--out", str(out), "--samples", "12"]) == 0
    text = capsys.readouterr().out
    assert "exporting" in text and "PASS: 12 samples × 4 steps" in text and "ms/sample" in text
    assert (run / "model.qonnx").is_file()
    assert (out / "build_prj.tcl").is_file() and not (out / "stale.txt").exists()
    assert sorted(p.name for p in out.parent.iterdir()) == ["hls"]  # no temporary folder left behind
    check = json.loads((out / "csim_check.json").read_text())
    assert check["samples"] == 12 and check["spike_mismatches_per_layer"] == [0, 0]
    assert len((out / "tb_data" / "tb_input_features.dat").read_text().splitlines()) == 4 * 4  # 4 samples × T


def test_cli_error_exits_2(tmp_path, capsys):
    from snn2fpga.cli import main

    assert main(["hls", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and len(err.strip().splitlines()) == 1


def test_cli_on_a_conv_model(tmp_path, capsys):
    """A conv → pool → dense output .qonnx (a bare network: random input spikes): every layer checked, pools included."""
    from snn2fpga import export
    from snn2fpga.cli import main
    from snn2fpga.core.contract import LIFParams
    from snn2fpga.core.golden import random_arch_network
    from snn2fpga.core.maps import MapShape

    lif = LIFParams(1, 2, "subtract", "ternary", 1, 16)
    net = random_arch_network(MapShape(2, 6, 6), "3c3p1-p2", 3, "ternary", lif, seed=2, with_bias=True)
    path = export.export_network(net, tmp_path / "conv.qonnx", steps=4)
    out = tmp_path / "hls"
    assert main(["hls", str(path), "--out", str(out), "--samples", "8", "--seed", "1"]) == 0
    assert "PASS: 8 samples × 4 steps" in capsys.readouterr().out
    check = json.loads((out / "csim_check.json").read_text())
    assert check["spike_mismatches_per_layer"] == [0, 0, 0]  # conv, pool, output dense
