"""The nextpnr step: arguments, the `--report` JSON, and the "does not fit" diagnosis.

nextpnr prints the packed design's utilisation before placing:

    Info: Device utilisation:
    Info:            TRELLIS_COMB:  2861/24288    11%
    Info:                  DP16KD:    14/   56    25%

and stops with "ERROR: Unable to place cell …, no BELs remaining to implement cell type
'DP16KD'" (or a packer error) when something does not fit. `diagnose()` turns that into a
`DoesNotFitError` listing every resource over 100 %.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from snn2fpga.synth.errors import DoesNotFitError, ToolError
from snn2fpga.synth.targets import Device, Target

_UTIL = re.compile(r"^Info:\s+([A-Za-z0-9_$]+):\s+(\d+)\s*/\s*(\d+)\s+(\d+)%")
_NO_BELS = re.compile(r"no BELs remaining to implement cell type '([^']+)'")
_FMAX = re.compile(r"Max frequency for clock\s+'([^']+)':\s+([\d.]+) MHz \((PASS|FAIL) at ([\d.]+) MHz\)")


def args(target: Target, device: Device, netlist: str, freq_mhz: float, report: str, seed: int = 1) -> list[str]:
    out = ["--json", netlist, "--freq", f"{freq_mhz:g}", "--report", report, "--seed", str(seed),
           "--timing-allow-fail", *device.pnr_args]
    if target.name == "ecp5":
        out += ["--lpf-allow-unconstrained", "--textcfg", "snn.config"]
    elif target.name == "ice40":
        out += ["--pcf-allow-unconstrained", "--asc", "snn.asc"]
    return out


def parse_utilization(log_text: str) -> dict[str, dict]:
    """The last 'Device utilisation' block of a nextpnr log: resource → {used, available}."""
    util: dict[str, dict] = {}
    for line in log_text.splitlines():
        if "Device utilisation" in line:
            util = {}
            continue
        m = _UTIL.match(line.strip())
        if m:
            util[m.group(1)] = {"used": int(m.group(2)), "available": int(m.group(3))}
    return util


def parse_report(data: dict) -> dict:
    """utilization and fmax of a `--report` JSON; fmax of the clock with the lowest achieved Fmax."""
    util = {k: {"used": int(v["used"]), "available": int(v["available"])} for k, v in data.get("utilization", {}).items()}
    clocks = {k: {"achieved": float(v["achieved"]), "constraint": float(v["constraint"])}
              for k, v in data.get("fmax", {}).items()}
    worst = min(clocks.values(), key=lambda c: c["achieved"]) if clocks else None
    return {
        "utilization": util,
        "clocks": clocks,
        "fmax_mhz": round(worst["achieved"], 2) if worst else None,
        "freq_mhz": worst["constraint"] if worst else None,
        "timing_met": (worst["achieved"] >= worst["constraint"]) if worst else None,
    }


def read_report(path: Path) -> dict:
    try:
        return parse_report(json.loads(Path(path).read_text()))
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ToolError(f"{path}: no readable nextpnr report ({exc})") from None


def utilization_table(util: dict[str, dict]) -> str:
    rows = []
    for name, u in util.items():
        if u["used"] == 0:
            continue
        pct = 100.0 * u["used"] / u["available"] if u["available"] else float("inf")
        flag = "  <-- over" if u["used"] > u["available"] else ""
        rows.append(f"  {name:>16}: {u['used']:>6} / {u['available']:<6} {pct:6.0f}%{flag}")
    return "\n".join(rows)


# Yosys' counts → the nextpnr resource they occupy (a device without any, e.g. the iCE40LP384's
# block RAM, has no line in the utilisation block).
PNR_RESOURCE = {
    "ecp5": {"bram": "DP16KD", "dsp": "MULT18X18D"},
    "ice40": {"bram": "ICESTORM_RAM", "dsp": "ICESTORM_DSP"},
}


def diagnose(log_text: str, device: Device, target: Target, log: Path | None = None,
             design: dict | None = None) -> None:
    """Raise DoesNotFitError if a failed nextpnr run ran out of some resource; else return.

    design: Yosys' counts ({"bram": n, "dsp": n}) for resources the device may lack entirely."""
    util = parse_utilization(log_text)
    if not util and not _NO_BELS.search(log_text):  # stopped before packing (a bad option or package): not a fit question
        return
    for key, resource in PNR_RESOURCE.get(target.name, {}).items():
        used = (design or {}).get(key) or 0
        if used and resource not in util:
            util[resource] = {"used": int(used), "available": 0}
    over = [k for k, u in util.items() if u["used"] > u["available"]]
    for cell in _NO_BELS.findall(log_text):
        if cell not in over:
            over.append(cell)
    if not over:
        return
    where = f"{device.name}" + (f" ({device.package})" if device.package else "")
    raise DoesNotFitError(
        f"the design does not fit the {target.family} {where}: {', '.join(over)} over capacity.\n"
        f"nextpnr's utilisation after packing:\n{utilization_table(util)}\n"
        "Choose a larger device (DEVICE=…), fewer lanes (P=…), or a smaller network.",
        util, over, log)
