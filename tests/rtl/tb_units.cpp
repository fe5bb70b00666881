// Drives tg_units_top: one vector per stdin line "pa sa ma pb sb a b s" (decimal),
// prints "ya yb p n ya_copy" after the blocks' latency (decimal, signed).
#include "Vtg_units_top.h"
#include "verilated.h"
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>

int main(int argc, char** argv) {
    Verilated::commandArgs(argc, argv);
    Vtg_units_top* t = new Vtg_units_top;
    std::string line;
    auto sx = [](uint64_t v, int w) { return (int64_t)(v << (64 - w)) >> (64 - w); };
    while (std::getline(std::cin, line)) {
        std::istringstream is(line);
        long long pa, pb, a, b; unsigned long long s; int sa, ma, sb;
        if (!(is >> pa >> sa >> ma >> pb >> sb >> a >> b >> s)) continue;
        t->pa = (uint64_t)pa & ((1ULL << 36) - 1); t->sa = sa; t->ma = ma;
        t->pb = (uint64_t)pb & ((1ULL << 40) - 1); t->sb = sb;
        t->a = (uint32_t)(a & ((1LL << 25) - 1)); t->b = (uint32_t)(b & ((1LL << 18) - 1));
        t->s = (uint32_t)s;
        for (int i = 0; i < 4; i++) { t->clk = 0; t->eval(); t->clk = 1; t->eval(); }
        printf("%lld %lld %lld %u %lld\n", (long long)sx(t->ya, 16), (long long)sx(t->yb, 16),
               (long long)sx(t->p, 43), (unsigned)t->n, (long long)sx(t->ya_copy, 16));
    }
    delete t;
    return 0;
}
