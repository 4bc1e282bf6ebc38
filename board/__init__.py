"""From a model to a board: the UART board top, bitstreams for open FPGA boards, the host runner.

`protocol` (the serial framing, numpy only), `uart` and `top` (the Amaranth board top),
`budget` (FIFO depth and link throughput), `boards` (the supported boards), `build`
(bitstreams with amaranth-boards + YoWASP), `host` (the framing over any link),
`serial_link` (a pyserial port as a link), `runner` (samples against the golden model),
`simulate` and `board_cocotb` (the whole board under Verilator + cocotb), `cli`
(`snn2fpga board`, `snn2fpga run-board`). docs/board.md describes them.
"""
