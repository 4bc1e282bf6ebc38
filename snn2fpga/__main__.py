"""`python -m snn2fpga`: the same as the `snn2fpga` console script."""

import sys

from snn2fpga.cli import main

sys.exit(main())
