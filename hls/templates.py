"""Config and function-call templates of the LIF layer (C++ in `hls/nnet_utils/nnet_lif.h`)."""

from __future__ import annotations

from hls4ml.backends.template import FunctionCallTemplate, LayerConfigTemplate

from snn2fpga.hls.layer import LIF

lif_config_template = """struct config{index} : nnet::lif_config {{
    static const unsigned n_in = {n_in};
    static const unsigned reuse_factor = {reuse};
    static const int threshold = {threshold};
    static const int leak_shift = {leak_shift};
    static const bool reset_zero = {reset_zero};
    static const bool full_membrane = {full_membrane};
    static const int delta = {delta};
    static const int quant_shift = {quant_shift};
    static const int code_min = {code_min};
    static const int code_max = {code_max};
    static const int acc_min = {acc_min};
    static const int acc_max = {acc_max};
    typedef {mem_t.name} mem_t;
    typedef {acc_t.name} acc_t;
    typedef {wide_t.name} wide_t;
}};\n"""

lif_function_template = "nnet::lif<{input_t}, {reset_t}, {output_t}, {config}>({input}, {reset}, {output});"
lif_include_list = ["nnet_utils/nnet_lif.h"]


class LIFConfigTemplate(LayerConfigTemplate):
    def __init__(self):
        super().__init__(LIF)
        self.template = lif_config_template

    def format(self, node):
        params = self._default_config_params(node)
        delta, a = node.get_attr("delta"), node.get_attr("acc_bits")
        lo, hi = node.code_range()
        two_delta = 2 * delta
        params["reset_zero"] = "true" if node.get_attr("reset_mode") == "zero" else "false"
        params["full_membrane"] = "true" if node.get_attr("membrane") == "full" else "false"
        params["quant_shift"] = two_delta.bit_length() - 1 if (two_delta & (two_delta - 1)) == 0 else -1
        params["code_min"], params["code_max"] = lo, hi
        params["acc_min"], params["acc_max"] = -(2 ** (a - 1)), 2 ** (a - 1) - 1
        return self.template.format(**params)


class LIFFunctionTemplate(FunctionCallTemplate):
    def __init__(self):
        super().__init__(LIF, include_header=lif_include_list)
        self.template = lif_function_template

    def format(self, node):
        params = self._default_function_params(node)
        reset = node.get_input_variable(node.inputs[1])
        params["reset_t"] = reset.type.name
        params["reset"] = reset.name
        return self.template.format(**params)
