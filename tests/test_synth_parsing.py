"""synth/ without running tools: log and report parsers on the tools' own formats, the memory
check, cell counting per target, the P&R wrapper, the Vivado script, model loading, errors."""

from types import SimpleNamespace

import pytest

from snn2fpga.rtl.generate import generate
from snn2fpga.rtl.manifest import Memory
from snn2fpga.synth import nextpnr, yosys
from snn2fpga.cli import main as synth_main
from snn2fpga.synth.errors import DoesNotFitError, MemoryMappingError, SynthError, TargetError
from snn2fpga.synth.flow import _check_capacity
from snn2fpga.synth.model import load_model
from snn2fpga.synth.targets import TARGETS, get_target, resolve_device
from snn2fpga.synth.vivado import write_vivado
from snn2fpga.synth.wrapper import WRAPPER_TOP, pin_count, wrapper_verilog
from snn2fpga.core.contract import LIFParams
from snn2fpga.core.golden import random_network

LIF = LIFParams(threshold=2, leak_shift=2, reset="subtract", membrane="ternary", delta=1, acc_bits=8)

# lines as Yosys 0.70's memory_libmap and nextpnr 0.11 print them
YOSYS_LOG = """\
3.28. Executing MEMORY_LIBMAP pass (mapping memories to cells).
found attribute 'ram_style = block' on memory snn_synth_top.u_snn.layer0.weights, forced mapping to block RAM
mapping memory snn_synth_top.u_snn.layer0.weights via $__DP16KD_
mapping memory snn_synth_top.u_snn.layer0.currents via $__PDPW16KD_
mapping memory snn_synth_top.u_snn.layer0.membranes via $__TRELLIS_DPR16X4_
Extracted data FF from read port 0 of snn_synth_top.u_snn.layer0.membranes: $\\layer0.membranes$rdreg[0]
using FF mapping for memory snn_synth_top.u_snn.layer0.spike_buffer
"""
NEXTPNR_LOG = """\
Info: Device utilisation:
Info: \t         ICESTORM_LC:    577/    384   150%
Info: \t        ICESTORM_RAM:      9/      0     0%
Info: \t               SB_IO:     19/     21    90%
ERROR: Unable to place cell 'x', no BELs remaining to implement cell type 'ICESTORM_LC'
"""


def _manifest():
    """What check_memories reads of a manifest: each layer's instance and memories."""
    mems = tuple(Memory(n, 8, 4, 32, None) for n in ("weights", "currents", "membranes", "spike_buffer"))
    return SimpleNamespace(layers=(SimpleNamespace(instance="layer0", memories=mems),))


def test_memory_mapping_read_from_memory_libmap_lines():
    mapped = yosys.memory_mapping(YOSYS_LOG)
    assert mapped == {
        "snn_synth_top.u_snn.layer0.weights": "$__DP16KD_",
        "snn_synth_top.u_snn.layer0.currents": "$__PDPW16KD_",
        "snn_synth_top.u_snn.layer0.membranes": "$__TRELLIS_DPR16X4_",
        "snn_synth_top.u_snn.layer0.spike_buffer": "FF",
    }
    ecp5 = TARGETS["ecp5"]
    rows = yosys.check_memories(ecp5, _manifest(), mapped, "auto")  # auto: only the weights must be block RAM
    assert [r["kind"] for r in rows] == ["block", "block", "lutram", "logic"]
    with pytest.raises(MemoryMappingError) as info:
        yosys.check_memories(ecp5, _manifest(), mapped, "block")
    msg = str(info.value)
    assert "2 memories not mapped to DP16KD" in msg
    assert "layer0.membranes (8×4): $__TRELLIS_DPR16X4_ → lutram" in msg and "layer0.spike_buffer" in msg
    mapped["snn_synth_top.u_snn.layer0.weights"] = "FF"
    with pytest.raises(MemoryMappingError, match="layer0.weights"):
        yosys.check_memories(ecp5, _manifest(), mapped, "auto")


def test_yosys_script_reads_hides_amaranth_names_and_forces_block_ram():
    text = yosys.script(TARGETS["ecp5"], ["rtl/snn_top.v", "w.v"], "top", "netlist.json", "block")
    lines = text.splitlines()
    assert "read_verilog rtl/snn_top.v" in lines and "hierarchy -check -top top" in lines
    assert lines.index("rename -hide w:*]") < lines.index("synth_ecp5 -top top -json netlist.json")
    assert 'setattr -set ram_style "block" m:*' in lines and lines[-1] == "tee -q -o stat.json stat -json"
    assert "setattr" not in yosys.script(TARGETS["xc7"], ["a.v"], "snn_top", None, "auto")
    assert "synth_xilinx -family xc7 -flatten -top snn_top" in yosys.script(TARGETS["xc7"], ["a.v"], "snn_top", None)
    with pytest.raises(ValueError, match="memory policy"):
        yosys.script(TARGETS["ecp5"], ["a.v"], "t", None, "lut")


def test_stat_json_both_layouts():
    cells = {"LUT4": 10, "CCU2C": 3, "TRELLIS_FF": 7, "DP16KD": 2, "$scopeinfo": 4}
    new = {"design": {"num_cells": 26, "num_cells_by_type": cells, "num_memories": 0}}
    old = {"modules": {"\\snn_top": {"num_cells": 26, "num_cells_by_type": cells}}}
    assert yosys.parse_stat(new) == yosys.parse_stat(old) | {"num_memories": 0}
    assert yosys.parse_stat(new)["cells"]["CCU2C"] == 3


def test_cell_counts_per_target():
    ecp5 = TARGETS["ecp5"].count({"LUT4": 10, "CCU2C": 3, "TRELLIS_FF": 7, "DP16KD": 2, "PDPW16KD": 1,
                                  "MULT18X18D": 4, "$paramod$abc\\TRELLIS_DPR16X4": 5, "PFUMX": 2, "$scopeinfo": 9})
    assert (ecp5["lut"], ecp5["ff"], ecp5["bram"], ecp5["dsp"], ecp5["lutram"]) == (16, 7, 3, 4, 5)
    assert ecp5["other_cells"] == {"PFUMX": 2}
    xc7 = TARGETS["xc7"].count({"LUT2": 5, "LUT6": 5, "RAM32M": 2, "FDRE": 8, "FDSE": 1, "RAMB36E1": 3,
                                "RAMB18E1": 3, "DSP48E1": 1, "CARRY4": 2})
    assert (xc7["lut"], xc7["ff"], xc7["bram"], xc7["dsp"], xc7["lutram"]) == (18, 9, 4.5, 1, 2)
    ice = TARGETS["ice40"].count({"SB_LUT4": 50, "SB_CARRY": 9, "SB_DFFESR": 3, "SB_DFF": 2, "SB_RAM40_4K": 4})
    assert (ice["lut"], ice["ff"], ice["bram"]) == (50, 5, 4)


def test_nextpnr_report_and_fit_diagnosis():
    rep = nextpnr.parse_report({
        "utilization": {"TRELLIS_COMB": {"used": 3917, "available": 24288}, "DP16KD": {"used": 20, "available": 56}},
        "fmax": {"$glbnet$clk$TRELLIS_IO_IN": {"achieved": 40.6512, "constraint": 100.0}},
    })
    assert rep["fmax_mhz"] == 40.65 and rep["freq_mhz"] == 100.0 and rep["timing_met"] is False
    assert rep["utilization"]["DP16KD"] == {"used": 20, "available": 56}
    util = nextpnr.parse_utilization(NEXTPNR_LOG)
    assert util["ICESTORM_LC"] == {"used": 577, "available": 384} and util["SB_IO"]["available"] == 21
    ice40 = TARGETS["ice40"]
    dev = resolve_device(ice40, "lp384")
    with pytest.raises(DoesNotFitError) as info:
        nextpnr.diagnose(NEXTPNR_LOG, dev, ice40)
    assert info.value.over == ["ICESTORM_LC", "ICESTORM_RAM"]
    assert "ICESTORM_LC:    577 / 384       150%  <-- over" in str(info.value)
    nextpnr.diagnose("Info: Device utilisation:\nInfo: \t ICESTORM_LC: 10/ 384 2%\nERROR: bad", dev, ice40)  # no raise
    # nextpnr refusing its options reports no utilisation: not "does not fit" (it once read as "DP16KD 31 / 0")
    ecp5 = TARGETS["ecp5"]
    nextpnr.diagnose("ERROR: Unsupported package 'CABGA256' for 'LFE5U-85F'.\n", resolve_device(ecp5, "LFE5U-85F"), ecp5,
                     design={"bram": 31})


def test_synthesis_only_target_checks_the_parts_capacity():
    xc7 = TARGETS["xc7"]
    dev = resolve_device(xc7, "xc7a35tcpg236-1")
    report = {"lut": 30000, "ff": 100, "bram": 60, "dsp": 0}
    with pytest.raises(DoesNotFitError) as info:
        _check_capacity(xc7, dev, report)
    assert info.value.over == ["lut", "bram"] and "xc7a35tcpg236-1" in str(info.value)
    _check_capacity(xc7, dev, {"lut": 300, "ff": 100, "bram": 6, "dsp": 0})


def test_targets_and_devices():
    assert resolve_device(TARGETS["ecp5"]).pnr_args == ("--25k", "--package", "CABGA256", "--speed", "6")
    assert resolve_device(TARGETS["ecp5"], "LFE5U-85F").package == "CABGA381"  # no 85F comes in CABGA256
    assert resolve_device(TARGETS["ice40"], "iCE40UP5K").pnr_args == ("--up5k", "--package", "sg48")
    with pytest.raises(TargetError, match="supported: ecp5, ice40, xc7"):
        get_target("gowin")
    with pytest.raises(TargetError, match="LFE5U-25F"):
        resolve_device(TARGETS["ecp5"], "LFE5U-99F")
    with pytest.raises(TargetError, match="7-series"):
        resolve_device(TARGETS["xc7"], "xcvu9p")
    assert issubclass(TargetError, SynthError) and issubclass(SynthError, ValueError)


def test_wrapper_keeps_system_ports(tmp_path):
    net = random_network([16, 8, 3], "ternary", LIF, seed=1)
    manifest = generate(net, 4, 4, tmp_path / "rtl")
    text = wrapper_verilog(manifest)
    assert text.count(f"module {WRAPPER_TOP} (") == 1 and "snn_top u_snn (" in text
    assert "input wire [4:0] i_stream__payload" in text and "output wire o_stream__valid" in text
    assert ".counts()" in text and ".tap0__payload()" in text and ".label(label)" in text
    # clk rst | i_stream payload 4+1, valid, ready | o_stream 2+1, valid, ready | clear clearing | done | label 2
    assert pin_count(manifest) == 2 + 7 + 5 + 2 + 1 + 2


def test_vivado_script(tmp_path):
    net = random_network([16, 8, 3], "ternary", LIF, seed=1)
    tcl = write_vivado(net, 4, 4, tmp_path / "vivado", part="xc7a35tcpg236-1", freq_mhz=125)
    text = tcl.read_text()
    assert (tmp_path / "vivado" / "rtl" / "snn_top.v").exists()
    for line in ("read_verilog [file join $here rtl snn_top.v]",
                 "synth_design -top snn_top -part $part -mode out_of_context",
                 "set part xc7a35tcpg236-1", "set period_ns 8.000", "opt_design", "place_design", "route_design",
                 "report_utilization -file [file join $out utilization.rpt]"):
        assert line in text, line
    assert "report_timing" in text and "Not run by the snn2fpga project" in text


def test_load_model_reads_the_qonnx_and_refuses_what_is_not_a_model(tmp_path):
    from snn2fpga.export import export_network

    net = random_network([16, 8, 3], "ternary", LIF, seed=1)
    export_network(net, tmp_path / "tiny.qonnx", steps=4, pool=2)
    info = load_model(tmp_path / "tiny.qonnx")
    assert (info.name, info.steps, info.sizes) == ("tiny", 4, [16, 8, 3])
    assert info.describe()["file_sha256"] and info.describe()["pool"] == 2
    with pytest.raises(ValueError, match="neither model.qonnx nor model.pt"):
        load_model(tmp_path)
    (tmp_path / "net.json").write_text("{}")
    with pytest.raises(ValueError, match="not a model"):
        load_model(tmp_path / "net.json")


def test_cli_reports_bad_input(tmp_path, capsys):
    assert synth_main(["synth", str(tmp_path), "--target", "ecp5"]) == 2
    assert "neither model.qonnx nor model.pt" in capsys.readouterr().err
