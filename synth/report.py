"""report.json → Markdown, and small number formatting shared with the bench."""

from __future__ import annotations


def fmt(value, digits: int = 0) -> str:
    """Thousands separators; '—' for None."""
    if value is None:
        return "—"
    if isinstance(value, float) and (digits or not value.is_integer()):
        return f"{value:,.{max(digits, 1)}f}"
    if isinstance(value, float):
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else str(value)


def markdown_report(report: dict) -> str:
    """One synthesis report as a Markdown page (the table first)."""
    model = report.get("model", {})
    title = f"# Synthesis: {model.get('path', 'network')} on {report['target']} ({report['device']})"
    lines = [title, ""]
    if report.get("status") != "ok":
        lines += [f"**{report.get('status', '?').replace('_', ' ').upper()}**", "", "```", report.get("error", ""), "```", ""]
    timing = ""
    if report.get("fmax_mhz") is not None:
        met = "met" if report.get("timing_met") else "not met"
        timing = f"{report['fmax_mhz']:.1f} (asked {report.get('freq_mhz', 0):g}, {met})"
    lines += [
        "| P | LUT | FF | block RAM | DSP | LUT RAM | Fmax (MHz) |",
        "|---|---|---|---|---|---|---|",
        f"| {report['lanes']} | {fmt(report.get('lut'))} | {fmt(report.get('ff'))} | {fmt(report.get('bram'))} "
        f"| {fmt(report.get('dsp'))} | {fmt(report.get('lutram'))} | {timing or '— (synthesis only)'} |",
        "",
    ]
    if model:
        lines += [f"Network {' → '.join(str(n) for n in model.get('sizes', []))}, weights "
                  f"{'/'.join(q or 'pool' for q in model.get('weight_quant', []))}, membranes {'/'.join(q or 'pool' for q in model.get('membrane', []))}, "
                  f"T = {model.get('steps')}; read from {model.get('network_source')}.", ""]
    if report.get("lut_pnr") is not None:
        lines += [f"LUT counts Yosys' LUT4 (+2 per CCU2C carry on ECP5); after P&R the device's logic "
                  f"cells in use: {fmt(report['lut_pnr'])}.", ""]
    util = report.get("utilization")
    if util:
        lines += ["| resource | used | available | % |", "|---|---|---|---|"]
        for name, u in util.items():
            if u["used"]:
                pct = 100.0 * u["used"] / u["available"] if u["available"] else float("nan")
                lines.append(f"| {name} | {fmt(u['used'])} | {fmt(u['available'])} | {pct:.0f} |")
        lines.append("")
    mems = report.get("memories")
    if mems:
        lines += [f"Memories (policy `{report.get('memory_policy')}`):", "",
                  "| memory | depth × width | bits | mapped to | kind |", "|---|---|---|---|---|"]
        for m in mems:
            lines.append(f"| {m['memory']} | {m['depth']} × {m['width']} | {fmt(m['bits'])} | `{m['mapped_to']}` | {m['kind']} |")
        lines.append("")
    rt = report.get("runtime_s", {})
    if rt:
        lines += ["Run time (s): " + ", ".join(f"{k} {v}" for k, v in rt.items()), ""]
    tools = report.get("tools", {})
    if tools:
        lines += ["Tools: " + ", ".join(v for v in tools.values() if v), ""]
    return "\n".join(lines)
