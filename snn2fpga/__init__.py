"""snn2fpga: a quantized SNN from PyTorch to verified FPGA hardware.

The Python API (snn2fpga/api.py; loaded on first use, so `import snn2fpga` is cheap):
`train_network`, `import_nir`, `resolve_model`, `test_split`, `generate_rtl`, `simulate`. The stages are
subpackages: snn2fpga.core, .train, .export, .rtl, .hls, .sim, .synth.
"""

from importlib import import_module as _import_module
from pathlib import Path as _Path

# In a checkout the stages are folders beside this one (core/, train/, …; DESIGN §1), and
# an installed wheel maps them under snn2fpga/. Searching the checkout's root too lets a
# checkout run without installing (PYTHONPATH=. python -m snn2fpga); a wheel has no core/
# beside its package folder, so there this adds nothing.
_root = _Path(__file__).resolve().parent.parent
if (_root / "core" / "contract.py").is_file() and str(_root) not in __path__:
    __path__.append(str(_root))

__all__ = ["train_network", "import_nir", "resolve_model", "test_split", "generate_rtl", "simulate", "SimResult"]


def __getattr__(name: str):
    """The API names, imported from snn2fpga.api on first use."""
    if name in __all__:
        return getattr(_import_module("snn2fpga.api"), name)
    raise AttributeError(f"module 'snn2fpga' has no attribute {name!r}")
