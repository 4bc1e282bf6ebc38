// One time step of a quantized LIF layer, the neuron contract of docs/contract.md in exact integers.
//
// The stored membrane codes m are persistent state: a `static` array of the templated function, one per
// layer (every layer has its own CONFIG_T, hence its own instantiation). A nonzero `reset[0]` clears the
// state before the step, so the first step of a sample sees m_{-1} = 0.
//
// Per neuron, with I the exact integer current from the Dense layer before it:
//   v = delta * m                  dequantize
//   v = v - (v >> leak_shift)      leak (arithmetic shift = floor), skipped when leak_shift == 0
//   u = sat_A(v + I)               integrate, saturating to acc_bits
//   spike = (u >= threshold)       fire
//   u = u - threshold | 0          reset (subtract | zero) in the same step
//   m = clamp(floor((2u + delta) / (2 delta)), code_min, code_max)   store (u itself for "full")
#ifndef NNET_LIF_H_
#define NNET_LIF_H_

#include "ap_int.h"
#include "nnet_common.h"

namespace nnet {

struct lif_config {
    static const unsigned n_in = 10;
    static const unsigned reuse_factor = 1;
    static const int threshold = 1;
    static const int leak_shift = 0; // 0: no leak (integrate-and-fire)
    static const bool reset_zero = false;
    static const bool full_membrane = false; // "full": m = u, delta = 1
    static const int delta = 1;
    static const int quant_shift = -1; // log2(2 delta) when 2 delta is a power of two, else -1
    static const int code_min = -1;
    static const int code_max = 1;
    static const int acc_min = -32768; // -2^(A-1)
    static const int acc_max = 32767;  // 2^(A-1) - 1
    typedef ap_int<2> mem_t;           // a stored membrane code
    typedef ap_int<16> acc_t;          // u, A bits
    typedef ap_int<20> wide_t;         // v + I and 2u + delta, wide enough never to wrap
};

// floor(num / den) for den > 0; C++ `/` truncates toward zero.
template <class T> T lif_floor_div(T num, int den) {
#pragma HLS INLINE
    T q = num / den;
    if (num < 0 && q * den != num) {
        q = q - 1;
    }
    return q;
}

template <class data_T, class reset_T, class res_T, typename CONFIG_T>
void lif(data_T current[CONFIG_T::n_in], reset_T reset[1], res_T spikes[CONFIG_T::n_in]) {
    typedef typename CONFIG_T::wide_t wide_t;
    typedef typename CONFIG_T::acc_t acc_t;
    typedef typename CONFIG_T::mem_t mem_t;

    static mem_t membrane[CONFIG_T::n_in];
#pragma HLS ARRAY_PARTITION variable = membrane complete
#pragma HLS PIPELINE II = CONFIG_T::reuse_factor

    const bool clear = (reset[0] != 0);

Neurons:
    for (unsigned i = 0; i < CONFIG_T::n_in; i++) {
#pragma HLS UNROLL
        wide_t v = clear ? wide_t(0) : wide_t(wide_t(membrane[i]) * CONFIG_T::delta);
        if (CONFIG_T::leak_shift > 0) {
            v = v - (v >> CONFIG_T::leak_shift);
        }
        wide_t sum = v + wide_t(current[i]);
        acc_t u;
        if (sum > CONFIG_T::acc_max) {
            u = CONFIG_T::acc_max;
        } else if (sum < CONFIG_T::acc_min) {
            u = CONFIG_T::acc_min;
        } else {
            u = sum;
        }

        const bool fire = (u >= CONFIG_T::threshold);
        if (fire) {
            u = CONFIG_T::reset_zero ? acc_t(0) : acc_t(u - CONFIG_T::threshold);
        }
        spikes[i] = fire ? res_T(1) : res_T(0);

        if (CONFIG_T::full_membrane) {
            membrane[i] = u;
        } else {
            wide_t num = wide_t(2) * wide_t(u) + CONFIG_T::delta;
            wide_t q = (CONFIG_T::quant_shift >= 0) ? wide_t(num >> CONFIG_T::quant_shift)
                                                    : lif_floor_div<wide_t>(num, 2 * CONFIG_T::delta);
            if (q > CONFIG_T::code_max) {
                q = CONFIG_T::code_max;
            } else if (q < CONFIG_T::code_min) {
                q = CONFIG_T::code_min;
            }
            membrane[i] = q;
        }
    }
}

} // namespace nnet

#endif
