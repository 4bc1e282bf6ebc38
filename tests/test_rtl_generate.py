"""`python -m rtl` / `rtl.generate`: the files, the manifest, memory images, Verilator lint."""

import json
import re

import pytest

from snn2fpga.cli import main
from snn2fpga.rtl.generate import GenerateError, generate
from snn2fpga.rtl.lint import lint
from snn2fpga.rtl.manifest import Manifest, ManifestError
from snn2fpga.core.contract import LIFParams, default_delta
from snn2fpga.core.golden import random_network

def _net(sizes=(12, 9, 4), weight_quant="int4", membrane="int8", bias=True):
    lif = LIFParams(3, 2, "subtract", membrane, default_delta(membrane, 3), 10)
    return random_network(list(sizes), weight_quant, lif, seed=2, with_bias=bias)


def _verilog_init(text: str, memory: str, module: str) -> list[int]:
    """The inline `initial` words of one memory inside one module of the generated .v."""
    body = text[text.index(f"module \\{module} ") :]
    body = body[: body.index("endmodule")]
    words = re.findall(rf"^\s*{memory}\[(\d+)\] = \d+'h([0-9a-f]+);", body, re.M)
    return [int(v, 16) for _, v in sorted(words, key=lambda w: int(w[0]))]


def test_generate_writes_verilog_hex_and_manifest(tmp_path):
    net = _net()
    out = tmp_path / "rtl"
    manifest = generate(net, 5, 3, out)
    assert sorted(p.name for p in out.iterdir()) == [
        "bias_l0.hex", "bias_l1.hex", "manifest.json", "snn_top.v", "weights_l0.hex", "weights_l1.hex"
    ]
    assert json.loads((out / "manifest.json").read_text()) == manifest.to_dict()
    assert Manifest.read(out / "manifest.json") == manifest
    assert manifest.lanes == 3 and manifest.steps == 5 and manifest.top == "snn_top"
    ports = {p.name: p for p in manifest.ports}
    assert ports["i_stream__payload"].width == 4 + 1  # 12 inputs → 4 address bits + eos
    assert ports["counts"].width == 4 * 3 and ports["label"].width == 2
    assert {"tap0__valid", "tap0__ready", "tap0__payload", "tap1__payload", "done", "clear"} <= set(ports)
    l0, l1 = manifest.layers
    assert (l0.n_in, l0.n, l0.rows, l0.weight_bits, l0.membrane_bits) == (12, 9, 3, 4, 8)
    assert l1.lanes == 3 and l1.rows == 2 and l1.threshold == 3 and l1.reset == "subtract"
    weights = next(m for m in l0.memories if m.name == "weights")
    assert (weights.depth, weights.width, weights.init_file) == (12 * 3, 3 * 4, "weights_l0.hex")
    assert manifest.memory_bits.weight_codes == (12 * 9 + 9 * 4) * 4
    assert manifest.cycle_model.rows == (3, 2) and manifest.cycle_model.steps == 5

    text = (out / "snn_top.v").read_text()
    assert "/work" not in text and str(tmp_path) not in text  # emit_src=False: no paths
    for i in range(2):
        hexed = [int(line, 16) for line in (out / f"weights_l{i}.hex").read_text().split()]
        assert _verilog_init(text, "weights", f"snn_top.layer{i}") == hexed
        biased = [int(line, 16) for line in (out / f"bias_l{i}.hex").read_text().split()]
        assert _verilog_init(text, "bias", f"snn_top.layer{i}")[: len(biased)] == biased


def test_manifest_round_trips_and_keeps_the_file_layout(tmp_path):
    """to_dict → from_dict is the same record; the JSON keys and their order are docs/rtl.md's."""
    manifest = generate(_net(), 5, 3, tmp_path, source="model.qonnx", units=2)
    d = manifest.to_dict()
    assert Manifest.from_dict(d, "here") == manifest
    assert list(d) == ["format", "source", "top", "verilog", "lanes", "units", "steps", "n_in", "n_classes", "count_bits",
                       "ports", "aer", "taps", "layers", "memory_bits", "cycle_model", "generation_s", "checkpoint_sha256"]
    assert d["format"] == "snn2fpga-rtl/1" and d["units"] == 2 and d["taps"][1] == {"port": "tap1", "layer": 1, "addr_bits": 2}
    assert list(d["memory_bits"]) == ["weights", "currents", "membranes", "bias", "spike_buffer", "membrane_state", "weight_codes"]
    assert d["cycle_model"] == {"rows": [3, 2], "row_cycles": [3, 3], "steps": 5, "sweep_overhead": 4, "rearm": 1,
                                "clear_overhead": 2, "clear_cycles": 5}
    assert (tmp_path / "manifest.json").read_text() == manifest.to_json()


def test_a_bad_manifest_names_the_file_and_the_field(tmp_path):
    manifest = generate(_net(), 5, 3, tmp_path / "rtl")
    path = tmp_path / "rtl" / "manifest.json"

    def broken(change) -> str:
        d = manifest.to_dict()
        change(d)
        path.write_text(json.dumps(d))
        with pytest.raises(ManifestError) as info:
            Manifest.read(path)
        return str(info.value)

    assert broken(lambda d: d.update(lanes=-1)) == f"{path}: manifest field 'lanes' must be a positive integer, got -1"
    assert broken(lambda d: d.pop("steps")) == f"{path}: manifest field 'steps' is missing"
    assert broken(lambda d: d["layers"][1]["memories"][0].update(depth="36")) == (
        f"{path}: manifest field 'layers[1].memories[0].depth' must be a positive integer, got '36'")
    assert broken(lambda d: d["layers"][0].update(reset="halve")).startswith(
        f"{path}: manifest field 'layers[0].reset' must be one of 'subtract', 'zero', got 'halve'")
    assert broken(lambda d: d["aer"].update(in_addr_bits=True)) == (
        f"{path}: manifest field 'aer.in_addr_bits' must be a positive integer, got True")
    assert broken(lambda d: d["cycle_model"].update(sweep_overhead=5)) == (
        f"{path}: manifest field 'cycle_model.sweep_overhead' must be 4 (this version's cycle model), got 5")
    assert broken(lambda d: d["cycle_model"].update(rows=[3])) == (
        f"{path}: manifest field 'cycle_model.rows' must have one entry per layer (2), got [3]")
    assert broken(lambda d: d.update(format="snn2fpga-rtl/0")).startswith(f"{path}: manifest field 'format' must be one of")
    path.write_text("{not json")
    with pytest.raises(ManifestError, match="not a JSON manifest"):
        Manifest.read(path)
    with pytest.raises(ManifestError, match="^here: manifest must be a JSON object, got list$"):
        Manifest.from_dict([], "here")
    assert issubclass(ManifestError, ValueError)


def test_hex_lanes_are_twos_complement_codes(tmp_path):
    net = _net(weight_quant="ternary", bias=False)
    generate(net, 2, 4, tmp_path)
    rows = (tmp_path / "weights_l0.hex").read_text().split()
    w = net.layers[0].weights  # row a·R + r, lane j ↔ W[r·4 + j, a], 2 bits each
    for a in (0, 5, 11):
        word = int(rows[a * 3 + 1], 16)  # r = 1: neurons 4..7
        lanes = [(word >> (2 * j)) & 3 for j in range(4)]
        assert lanes == [int(c) & 3 for c in w[4:8, a]]
    assert not (tmp_path / "bias_l0.hex").exists()


def test_generate_replaces_the_output_atomically(tmp_path):
    out = tmp_path / "rtl"
    generate(_net(), 5, 3, out)
    (out / "stale.txt").write_text("from an earlier run")
    generate(_net(bias=False), 5, 2, out)
    assert not (out / "stale.txt").exists() and not (out / "bias_l0.hex").exists()
    assert Manifest.read(out / "manifest.json").lanes == 2
    assert [p.name for p in tmp_path.iterdir()] == ["rtl"]  # no temp folder left behind


def test_generate_rejects_bad_arguments(tmp_path):
    with pytest.raises(GenerateError, match="lanes"):
        generate(_net(), 5, 0, tmp_path / "x")
    with pytest.raises(GenerateError, match="steps"):
        generate(_net(), 0, 2, tmp_path / "x")
    with pytest.raises(GenerateError, match="units"):
        generate(_net(), 5, 2, tmp_path / "x", units=0)
    assert not (tmp_path / "x").exists()


def test_cli_on_an_exported_model(tmp_path, capsys):
    """`snn2fpga rtl` reads export's model.qonnx through resolve_model; P, Q and bad paths."""
    from snn2fpga.export import export_network

    net = _net()
    export_network(net, tmp_path / "run" / "model.qonnx", 4)
    assert main(["rtl", str(tmp_path / "run"), "--lanes", "4", "--units", "all", "--out", str(tmp_path / "out")]) == 0
    manifest = Manifest.read(tmp_path / "out" / "manifest.json")
    assert manifest.steps == 4 and manifest.lanes == 4 and manifest.units is None
    assert "wrote" in capsys.readouterr().out
    # Q = 2 LIF units over 4 lanes: 2 slices, 3 sweep cycles a row, in the manifest's cycle model
    assert main(["rtl", str(tmp_path / "run"), "--lanes", "4", "--units", "2", "--out", str(tmp_path / "q2")]) == 0
    manifest = Manifest.read(tmp_path / "q2" / "manifest.json")
    assert manifest.units == 2 and [l.slices for l in manifest.layers] == [2, 2]
    assert manifest.cycle_model.row_cycles == (3, 3)
    capsys.readouterr()
    for bad, says in ((["--units", "0"], "--units"), (["--lanes", "0"], "--lanes"), (["--units", "x"], "'all'")):
        assert main(["rtl", str(tmp_path / "run"), *bad, "--out", str(tmp_path / "o4")]) == 2
        err = capsys.readouterr().err
        assert says in err and len(err.strip().splitlines()) == 1
    assert main(["rtl", str(tmp_path / "missing.qonnx"), "--out", str(tmp_path / "o3")]) == 2
    assert "no such run folder or model file" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()  # a run folder that was never trained
    assert main(["rtl", str(tmp_path / "empty"), "--out", str(tmp_path / "o3")]) == 2
    err = capsys.readouterr().err
    assert "neither model.qonnx nor model.pt" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o3").exists() and not (tmp_path / "o4").exists()


@pytest.mark.parametrize(("lanes", "units"), [(1, None), (3, None), (8, None), (8, 3)])
def test_verilator_lint_small(tmp_path, lanes, units):
    generate(_net(weight_quant="binary", membrane="ternary"), 4, lanes, tmp_path, units=units)
    result = lint(tmp_path / "snn_top.v")
    assert result.returncode == 0, result.stderr[-4000:]


def test_verilator_lint_default_shape(tmp_path):
    """578 → 128 → 10, ternary weights and membranes, A = 16, T = 10, P = 16."""
    lif = LIFParams(4, 3, "subtract", "ternary", default_delta("ternary", 4), 16)
    manifest = generate(random_network([578, 128, 10], "ternary", lif, seed=0), 10, 16, tmp_path)
    assert manifest.memory_bits.membrane_state == 138 * 2
    result = lint(tmp_path / "snn_top.v")
    assert result.returncode == 0, result.stderr[-4000:]


def test_cli_output_equals_the_library_call(tmp_path):
    """The command writes exactly what rtl.generate writes for the same network and point."""
    from snn2fpga.export import export_network

    net = _net()
    export_network(net, tmp_path / "run" / "model.qonnx", 5)
    assert main(["rtl", str(tmp_path / "run"), "--lanes", "3", "--units", "all", "--out", str(tmp_path / "from_qonnx")]) == 0
    generate(net, 5, 3, tmp_path / "from_net")
    same = [(tmp_path / d / "snn_top.v").read_text() for d in ("from_qonnx", "from_net")]
    assert same[0] == same[1]
    manifest = Manifest.read(tmp_path / "from_qonnx" / "manifest.json")
    assert manifest.steps == 5 and manifest.source.endswith("model.qonnx")


def test_manifest_records_the_checkpoint_behind_the_model(tmp_path):
    """`snn2fpga rtl` writes the SHA-256 of the model.pt the QONNX came from into manifest.json (issue 16)."""
    from snn2fpga.export import build_model
    from snn2fpga.export.qonnx_export import make_meta, save_model

    net, digest = _net(), "ab" * 32
    save_model(build_model(net, make_meta(net, [1.0] * len(net.layers), 4, 1, checkpoint_sha256=digest)),
               tmp_path / "run" / "model.qonnx")
    assert main(["rtl", str(tmp_path / "run"), "--lanes", "4", "--out", str(tmp_path / "out")]) == 0
    assert Manifest.read(tmp_path / "out" / "manifest.json").checkpoint_sha256 == digest
