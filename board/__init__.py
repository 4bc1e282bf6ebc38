"""From a model to a board: the UART board top, bitstreams for open FPGA boards, the host runner.

`protocol` (the serial framing, numpy only), `uart` and `top` (the Amaranth board top),
`boards` (the supported boards), `budget` (FIFO depth and link throughput), `build`
(bitstreams with amaranth-boards + YoWASP), `host` (the framing over a link), `runner`
(`snn2fpga run-board`), `cli`.
"""
