"""snn2fpga: a quantized SNN from PyTorch to verified FPGA hardware."""

from pathlib import Path as _Path

# In a checkout the stages are folders beside this one (core/, train/, …; DESIGN §1), and
# an installed wheel maps them under snn2fpga/. Searching the checkout's root too lets a
# checkout run without installing (PYTHONPATH=. python -m snn2fpga); a wheel has no core/
# beside its package folder, so there this adds nothing.
_root = _Path(__file__).resolve().parent.parent
if (_root / "core" / "contract.py").is_file() and str(_root) not in __path__:
    __path__.append(str(_root))
