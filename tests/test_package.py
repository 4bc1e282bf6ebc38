"""The package as users get it: a wheel under one name, the stage order, the cache keys, the API example."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path


REPO = Path(__file__).resolve().parents[1]
STAGES = {"core": 0, "train": 1, "export": 2, "rtl": 3, "hls": 3, "sim": 4, "synth": 4, "board": 5, "snn2fpga": 6}
NO_HEAVY_IN_CORE = ("torch", "brevitas", "amaranth", "qonnx")


# ---- imports: the pipeline order, a light core/, no private names across packages ------------


def _stage_of(module: str) -> str | None:
    """`snn2fpga.rtl.layer` → "rtl"; `snn2fpga` or `snn2fpga.cli` → "snn2fpga"; other packages → None."""
    parts = module.split(".")
    if parts[0] != "snn2fpga":
        return None
    return parts[1] if len(parts) > 1 and parts[1] in STAGES else "snn2fpga"


def import_violations(root: Path) -> list[str]:
    """Every import under `root`'s stage folders that breaks the rules (DESIGN §1, STYLE.md)."""
    found = []
    for stage in STAGES:
        folder = root / stage
        for path in sorted(folder.rglob("*.py")) if folder.is_dir() else []:
            where = f"{path.relative_to(root)}"
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    targets = [(a.name, None) for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    targets = [(node.module, a.name) for a in node.names]
                else:
                    continue
                for module, name in targets:
                    top = module.split(".")[0]
                    if stage == "core" and top in NO_HEAVY_IN_CORE:
                        found.append(f"{where}:{node.lineno}: core/ imports {module}")
                    other = _stage_of(module)
                    if other is None:
                        continue
                    if other != stage and STAGES[other] >= STAGES[stage]:
                        found.append(f"{where}:{node.lineno}: stage {stage} imports the later or parallel stage {other} ({module})")
                    private = [p for p in module.split(".")[1:] if p.startswith("_") and not p.startswith("__")]
                    if name and name.startswith("_") and not name.startswith("__"):
                        private.append(name)
                    if private and other != stage:
                        found.append(f"{where}:{node.lineno}: imports the private {'.'.join(private)} of {module}")
    return found


def test_stages_import_only_earlier_stages_and_public_names():
    assert import_violations(REPO) == []


def test_the_import_check_catches_each_kind_of_violation(tmp_path):
    """The checker itself, on a tree built to break every rule once."""
    for stage, text in {
        "core": "import torch\nfrom amaranth import Signal\n",
        "rtl": "from snn2fpga.sim.design import prepare_design\nfrom snn2fpga.hls import build\n",
        "synth": "from snn2fpga.rtl.layer import _rows\nfrom snn2fpga.export.resolve import resolve_model\n",
        "export": "from snn2fpga.export.loader import _Graph\n",  # private, but of its own package: allowed
    }.items():
        (tmp_path / stage).mkdir()
        (tmp_path / stage / "m.py").write_text(text)
    found = import_violations(tmp_path)
    assert len(found) == 5, found
    assert any("core/ imports torch" in f for f in found) and any("core/ imports amaranth" in f for f in found)
    assert any("later or parallel stage sim" in f for f in found) and any("parallel stage hls" in f for f in found)
    assert any("private _rows" in f for f in found)


# ---- build caches: keyed on every source the output depends on --------------------------------


def test_a_contract_change_misses_the_sim_and_synth_caches(tmp_path):
    """Copies of core/ and rtl/ give the same keys; one edited contract constant gives new ones."""
    from snn2fpga.core.contract import LIFParams
    from snn2fpga.core.golden import random_network
    from snn2fpga.rtl.sources import CORE_DIR, RTL_DIR, source_key
    from snn2fpga.sim.design import design_key
    from snn2fpga.synth.flow import input_key
    from snn2fpga.synth.targets import TARGETS, resolve_device

    net = random_network([8, 4, 3], "ternary", LIFParams(3, 2, "subtract", "ternary", 2, 12), seed=0)
    copies = (tmp_path / "core", tmp_path / "rtl")
    shutil.copytree(CORE_DIR, copies[0], ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(RTL_DIR, copies[1], ignore=shutil.ignore_patterns("__pycache__"))
    tgt = TARGETS["ecp5"]
    dev = resolve_device(tgt, None)

    def keys(sources):
        return (source_key("x", sources), design_key(net, 4, 2, None, sources),
                input_key(net, 4, 2, tgt, dev, 100.0, True, "block", 1, None, sources))

    before = keys(copies)
    assert before == keys((CORE_DIR, RTL_DIR)), "the key depends on contents, not on where the sources are"
    contract = copies[0] / "contract.py"
    text = contract.read_text()
    assert "MAX_ACC_BITS = 22" in text
    contract.write_text(text.replace("MAX_ACC_BITS = 22", "MAX_ACC_BITS = 21"))
    after = keys(copies)
    assert all(a != b for a, b in zip(before, after)), "a contract constant changed: every cache must miss"


# ---- the wheel ----------------------------------------------------------------------------------


def _site_packages(python: Path) -> Path:
    out = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def test_the_wheel_installs_under_one_name_beside_a_users_train_and_export(tmp_path):
    """pip wheel → a fresh venv (the environment's packages reused) → from a folder holding its own
    train.py and export.py, `snn2fpga --help` and `import snn2fpga.rtl` work, from the wheel."""
    src, wheels = tmp_path / "src", tmp_path / "wheels"  # a copy of the sources: the build leaves nothing in the checkout
    for name in [*STAGES, "pyproject.toml", "README.md"]:
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy
        copy(REPO / name, src / name, **({"ignore": shutil.ignore_patterns("__pycache__")} if (REPO / name).is_dir() else {}))
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(wheels)], check=True, cwd=tmp_path)
    wheel = next(wheels.glob("snn2fpga-*.whl"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = _site_packages(python)
    # reuse the environment's packages: their folder on sys.path (its .pth files, such as this
    # checkout's editable install, are not processed this way, so the wheel is what is imported)
    (site / "reuse-env.pth").write_text(str(_site_packages(Path(sys.executable))) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)], check=True)
    installed = sorted(p.name for p in site.iterdir() if not p.name.endswith((".pth", ".dist-info")) and p.name != "__pycache__")
    assert installed == ["snn2fpga"], f"the wheel claims top-level names: {installed}"
    user = tmp_path / "user"
    user.mkdir()
    (user / "train.py").write_text("WHO = 'the user'\n")
    (user / "export.py").write_text("WHO = 'the user'\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    run = subprocess.run([str(env_dir / "bin" / "snn2fpga"), "--help"], cwd=user, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "sim-batch" in run.stdout and "synth" in run.stdout
    probe = "import train, export, snn2fpga.rtl, snn2fpga.train; print(train.WHO, export.WHO); print(snn2fpga.rtl.__file__)"
    run = subprocess.run([str(python), "-c", probe], cwd=user, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    who, where = run.stdout.splitlines()
    assert who == "the user the user"
    assert Path(where).is_relative_to(site), f"snn2fpga.rtl came from {where}, not the wheel"


# ---- the README's Python API example runs as written ---------------------------------------------


def readme_api_example() -> str:
    """The ```python block under the README's "Python API" heading."""
    text = (REPO / "README.md").read_text()
    section = text[text.index("### Python API"):]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README: no python block under 'Python API'"
    return match.group(1)


def test_the_readme_api_example_runs(tmp_path, monkeypatch, capsys):
    """Train 1 epoch, export, generate RTL, 10 samples through Verilator: 0 mismatches, cycles printed."""
    from snn2fpga.core.paths import CACHE_ENV, cache_root

    monkeypatch.setenv(CACHE_ENV, str(cache_root()))  # the datasets already generated, not a new cache in tmp
    monkeypatch.chdir(tmp_path)
    exec(compile(readme_api_example(), "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "mismatches 0" in out and "cycles" in out
    assert (tmp_path / "runs" / "notebook" / "model.qonnx").is_file()
    assert (tmp_path / "build" / "notebook" / "rtl" / "snn_top.v").is_file()
