"""`snn2fpga export runs/<name>`: writes model.qonnx + model.nir, reports size and cost; cost numbers."""

import json

from snn2fpga.export import inference_cost, load_network
from snn2fpga.cli import main as cli


def main(argv):
    return cli(["export", *argv])
from snn2fpga.export.testing import make_run, random_spikes


def test_cli_writes_files_and_reports(tmp_path, capsys):
    run = make_run(tmp_path / "runs" / "small", random_spikes(64, 6, 50, rate=0.2), hidden=[16], steps=6, weights="int4")
    assert main([str(run), "--cost"]) == 0
    out = capsys.readouterr().out
    assert (run / "model.qonnx").exists() and (run / "model.nir").exists()
    assert "KiB" in out and "checked against the golden model" in out
    report = json.loads(out[out.index("{"):])
    assert report["per_step"]["macs"] == 50 * 16 + 16 * 10
    net, meta = load_network(run)
    assert meta.steps == 6 and meta.source == "small"


def test_cli_error_is_one_line(tmp_path, capsys):
    assert main([str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err
    assert "error:" in err and len(err.strip().splitlines()) == 1


def test_inference_cost_counts_matmuls_and_lif_state(tmp_path):
    run = make_run(tmp_path / "r", random_spikes(32, 4, 40, rate=0.2), hidden=[24], steps=4, weights="ternary", membrane="int8")
    main([str(run), "--no-nir", "--no-check"])
    cost = inference_cost(run)
    layers = cost["layers"]
    assert [l["macs"] for l in layers] == [40 * 24, 24 * 10]
    assert [l["state_bits"] for l in layers] == [24 * 8, 10 * 8]  # int8 membrane codes
    assert [l["weight_bits"] for l in layers] == [40 * 24 * 2, 24 * 10 * 2]  # ternary: 2 bits per weight
    q = cost["qonnx"]
    assert q["total_cost"]["total_macs"] == cost["per_step"]["macs"]  # qonnx agrees on the MatMul part
    assert "LIF" in q["unsupported_ops"]
    assert cost["per_sample"]["macs"] == 4 * cost["per_step"]["macs"]
