// Batch harness: many samples through one Verilated snn_top, no Python in the loop.
//
// Usage: Vsnn_top IN OUT [--stall-in RATE] [--stall-out RATE] [--max-gap G] [--seed S]
//
// IN (little-endian uint32, written by sim/batch.py):
//   'SNNI' magic, n_samples, steps; per sample: max_cycles, then per step: k, k addresses.
// OUT (uint32): 'SNNO' magic, n_samples; per sample: status (0 done, 1 timeout), cycles,
//   label, SNN_CLASSES counts; per tap: n_words, then per word (addr | eos << 31, edge)
//   with edge the clock edge the word moved on, counted from the edge that moved the
//   sample's first input word.
//
// Protocol per sample (docs/rtl.md): one cycle of `clear`, then the words of each step
// and an eos word, each offered until taken (after an optional random gap with valid
// low); o_stream.ready high, or low at random with --stall-out. Handshakes are sampled
// with the inputs settled, just before the rising edge that moves them. cycles = the
// first edge with `done` high − the edge that moved the first input word (the cycle
// model's definition).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "Vsnn_top.h"
#include "snn_design.h"
#include "verilated.h"

static uint64_t bits_of(uint64_t v, int lo, int w) {
    uint64_t mask = w >= 64 ? ~0ull : ((1ull << w) - 1);
    return (v >> lo) & mask;
}

template <std::size_t N>
static uint64_t bits_of(const VlWide<N>& v, int lo, int w) {
    uint64_t r = 0;
    for (int i = 0; i < w; i++) {
        int b = lo + i;
        r |= (uint64_t)((v[b / 32] >> (b % 32)) & 1u) << i;
    }
    return r;
}

struct Input {
    FILE* f;
    uint32_t get() {
        uint32_t v;
        if (std::fread(&v, sizeof v, 1, f) != 1) {
            std::fprintf(stderr, "harness: input file truncated\n");
            std::exit(2);
        }
        return v;
    }
};

struct Output {
    std::vector<uint32_t> buf;
    void put(uint32_t v) { buf.push_back(v); }
};

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s IN OUT [--stall-in R] [--stall-out R] [--max-gap G] [--seed S]\n", argv[0]);
        return 2;
    }
    double stall_in = 0, stall_out = 0;
    int max_gap = 3;
    unsigned seed = 1;
    for (int i = 3; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--stall-in") stall_in = std::atof(argv[i + 1]);
        else if (a == "--stall-out") stall_out = std::atof(argv[i + 1]);
        else if (a == "--max-gap") max_gap = std::atoi(argv[i + 1]);
        else if (a == "--seed") seed = (unsigned)std::atoi(argv[i + 1]);
        else {
            std::fprintf(stderr, "harness: unknown option %s\n", a.c_str());
            return 2;
        }
    }
    Input in{std::fopen(argv[1], "rb")};
    if (!in.f) {
        std::fprintf(stderr, "harness: cannot open %s\n", argv[1]);
        return 2;
    }
    if (in.get() != 0x494E4E53u) {  // "SNNI"
        std::fprintf(stderr, "harness: %s is not a harness input file\n", argv[1]);
        return 2;
    }
    const uint32_t n_samples = in.get(), steps = in.get();
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> uni(0.0, 1.0);
    std::uniform_int_distribution<int> gapd(1, max_gap < 1 ? 1 : max_gap);
    auto gap = [&](double rate) { return rate > 0 && uni(rng) < rate ? gapd(rng) : 0; };

    VerilatedContext ctx;
    Vsnn_top top{&ctx};
    uint64_t edge = 0;
    // rising edge; clk goes low again with the next input change, in the same eval
    auto tick = [&]() {
        top.clk = 1;
        top.eval();
        top.clk = 0;
        edge++;
    };
    top.clk = 0;
    top.rst = 1;
    top.clear = 0;
    top.SNN_I_STREAM_VALID = 0;
    top.SNN_O_STREAM_READY = 1;
    top.eval();
    tick();
    top.eval();
    tick();
    top.rst = 0;

    Output out;
    out.put(0x4F4E4E53u);  // "SNNO"
    out.put(n_samples);
    const uint32_t eos_in = 1u << SNN_IN_ADDR_BITS;
    uint64_t total_cycles = 0;
    auto t0 = std::chrono::steady_clock::now();
    for (uint32_t s = 0; s < n_samples; s++) {
        const uint64_t max_cycles = in.get();
        std::vector<uint32_t> words;
        for (uint32_t t = 0; t < steps; t++) {
            uint32_t k = in.get();
            for (uint32_t j = 0; j < k; j++) words.push_back(in.get());
            words.push_back(eos_in);
        }
        std::vector<std::vector<uint32_t>> seen(SNN_TAPS), at(SNN_TAPS);
        // one cycle of clear: every register and, by a clearing sweep, every memory
        top.SNN_I_STREAM_VALID = 0;
        top.clear = 1;
        top.eval();
        tick();
        top.clear = 0;
        size_t pos = 0;
        int wait = gap(stall_in);
        int64_t first = -1, done_edge = -1;
        uint64_t start = edge;
        bool valid[SNN_TAPS], ready[SNN_TAPS];
        uint64_t payload[SNN_TAPS];
        while (edge - start < max_cycles) {
            const bool offer = wait == 0 && pos < words.size();
            top.SNN_I_STREAM_VALID = offer;
            top.SNN_I_STREAM_PAYLOAD = offer ? words[pos] : 0;
            top.SNN_O_STREAM_READY = !(stall_out > 0 && uni(rng) < stall_out);
            top.eval();
            const bool fire = offer && top.SNN_I_STREAM_READY;
            if (fire && first < 0) first = (int64_t)edge;
            if (top.done && first >= 0) {  // the first edge at which done is sampled high
                done_edge = (int64_t)edge;
                break;
            }
            snn_read_taps(&top, valid, ready, payload);
            for (int l = 0; l < SNN_TAPS; l++) {
                if (valid[l] && ready[l]) {
                    const int ab = SNN_TAP_ADDR_BITS[l];
                    const uint32_t addr = (uint32_t)bits_of(payload[l], 0, ab);
                    const uint32_t eos = (uint32_t)bits_of(payload[l], ab, 1);
                    seen[l].push_back(addr | (eos << 31));
                    at[l].push_back((uint32_t)(first >= 0 ? (int64_t)edge - first : -1));
                }
            }
            tick();
            if (fire) {
                pos++;
                wait = gap(stall_in);
            } else if (wait > 0) {
                wait--;
            }
        }
        const bool ok = done_edge >= 0;
        out.put(ok ? 0 : 1);
        out.put(ok ? (uint32_t)(done_edge - first) : 0);
        out.put((uint32_t)top.label);
        for (int c = 0; c < SNN_CLASSES; c++) out.put((uint32_t)bits_of(top.counts, c * SNN_COUNT_BITS, SNN_COUNT_BITS));
        for (int l = 0; l < SNN_TAPS; l++) {
            out.put((uint32_t)seen[l].size());
            for (size_t j = 0; j < seen[l].size(); j++) {
                out.put(seen[l][j]);
                out.put(at[l][j]);
            }
        }
        total_cycles += edge - start;
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    top.final();
    FILE* f = std::fopen(argv[2], "wb");
    if (!f || std::fwrite(out.buf.data(), sizeof(uint32_t), out.buf.size(), f) != out.buf.size()) {
        std::fprintf(stderr, "harness: cannot write %s\n", argv[2]);
        return 2;
    }
    std::fclose(f);
    std::fprintf(stderr, "harness: %u samples, %llu cycles in %.3f s (%.0f cycles/s)\n", n_samples,
                 (unsigned long long)total_cycles, secs, secs > 0 ? total_cycles / secs : 0.0);
    return 0;
}
