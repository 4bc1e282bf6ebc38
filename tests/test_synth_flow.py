"""synth/ with the real tools on a tiny generated design: one ECP5 flow (Yosys + nextpnr) whose
report is parsed and whose memories must all be block RAM, and one iCE40 part too small.

The YoWASP tools compile their WebAssembly on first use (~40 s each, cached afterwards).
"""

import json

import pytest

from snn2fpga.rtl.manifest import Manifest
from snn2fpga.synth.errors import DoesNotFitError
from snn2fpga.synth.flow import synthesize
from snn2fpga.synth.targets import TARGETS
from snn2fpga.synth.yosys import parse_stat
from snn2fpga.core.contract import LIFParams
from snn2fpga.core.golden import random_network


def _tiny():
    lif = LIFParams(threshold=2, leak_shift=2, reset="subtract", membrane="ternary", delta=1, acc_bits=8)
    return random_network([16, 8, 3], "ternary", lif, seed=1)


@pytest.fixture(scope="module")
def ecp5_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "ecp5"
    report = synthesize(_tiny(), 4, 4, "ecp5", out, freq_mhz=25, model={"path": "tiny"})
    return out, report


def test_ecp5_report_parsed_from_yosys_and_nextpnr(ecp5_run):
    out, report = ecp5_run
    assert report["status"] == "ok"
    assert json.loads((out / "report.json").read_text()) == report
    assert (out / "report.md").read_text().startswith("# Synthesis: tiny on ecp5 (LFE5U-25F CABGA256")
    for name in ("rtl/snn_top.v", "rtl/manifest.json", "snn_synth_top.v", "yosys.ys", "yosys.log", "stat.json",
                 "netlist.json", "nextpnr.log", "nextpnr.json"):
        assert (out / name).exists(), name
    assert not list(out.parent.glob(".ecp5.*")), "temp folder left behind"
    # the counts are Yosys' own cell histogram, counted per synth/targets.py
    cells = parse_stat(json.loads((out / "stat.json").read_text()))["cells"]
    assert report["lut"] == cells.get("LUT4", 0) + 2 * cells.get("CCU2C", 0) > 0
    assert report["ff"] == cells["TRELLIS_FF"] > 0
    assert report["bram"] == cells.get("DP16KD", 0) + cells.get("PDPW16KD", 0)
    assert report["dsp"] == cells.get("MULT18X18D", 0)
    assert report["device"] == "LFE5U-25F CABGA256 speed 6"
    # nextpnr's --report: Fmax of the one clock, utilisation with the device's totals
    assert 10 < report["fmax_mhz"] < 500 and report["freq_mhz"] == 25
    assert report["timing_met"] == (report["fmax_mhz"] >= 25)
    util = report["utilization"]
    assert util["DP16KD"] == {"used": report["bram"], "available": 56}
    assert util["TRELLIS_FF"]["used"] == report["ff"] and util["TRELLIS_COMB"]["available"] == 24288
    assert report["lut_pnr"] == util["TRELLIS_COMB"]["used"]
    assert report["pins"] == util["TRELLIS_IO"]["used"]


def test_every_memory_of_the_tiny_design_is_block_ram(ecp5_run):
    out, report = ecp5_run
    manifest = Manifest.read(out / "rtl" / "manifest.json")
    expected = {f"layer{layer.index}.{m.name}" for layer in manifest.layers for m in layer.memories}
    mems = {m["memory"]: m for m in report["memories"]}
    assert set(mems) == expected
    for name, m in mems.items():
        assert m["kind"] == "block", (name, m)
        assert m["mapped_to"].startswith(TARGETS["ecp5"].block_ram_maps)
    # and Yosys left no memory behind as flip-flops or LUT RAM
    assert report["lutram"] == 0 and report["bram"] >= 1
    log = (out / "yosys.log").read_text()
    assert "using FF mapping for memory" not in log and "TRELLIS_DPR16X4" not in json.dumps(report["raw"])


def test_xc7_synthesis_maps_memories_to_ramb(tmp_path):
    report = synthesize(_tiny(), 4, 4, "xc7", tmp_path / "xc7")
    assert report["status"] == "ok" and report["fmax_mhz"] is None and report["device"] == "xc7a35tcpg236-1"
    assert all(m["kind"] == "block" and m["mapped_to"].startswith("$__XILINX_BLOCKRAM") for m in report["memories"])
    cells = report["raw"]["yosys"]["cells"]
    assert report["bram"] == cells.get("RAMB36E1", 0) + 0.5 * cells.get("RAMB18E1", 0) > 0
    assert report["lut"] >= sum(cells.get(f"LUT{i}", 0) for i in range(1, 7)) > 0
    assert report["utilization"]["lut"] == {"used": report["lut"], "available": 20800}


def test_too_small_ice40_says_it_does_not_fit(tmp_path):
    out = tmp_path / "ice40"
    with pytest.raises(DoesNotFitError) as info:
        synthesize(_tiny(), 4, 4, "ice40", out, device="lp384", freq_mhz=12)
    err = info.value
    msg = str(err)
    assert "does not fit the Lattice iCE40 lp384 (qn32)" in msg
    assert "ICESTORM_LC" in err.over and "ICESTORM_LC" in msg and "over" in msg
    assert err.utilization["ICESTORM_LC"]["available"] == 384
    assert err.utilization["ICESTORM_LC"]["used"] > 384
    # the LP384 has no block RAM at all: the memories Yosys put there are reported too
    assert err.utilization["ICESTORM_RAM"]["available"] == 0 and "ICESTORM_RAM" in err.over
    report = json.loads((out / "report.json").read_text())  # the folder is published, saying why
    assert report["status"] == "does_not_fit" and report["over"] == err.over
    assert "DOES NOT FIT" in (out / "report.md").read_text()
