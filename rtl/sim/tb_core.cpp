// Verilator testbench for tritgpt_core, driven by line commands on stdin
// (tritgpt/verilator.py is the client):
//
//   wr MEM FILE            write a $readmemh image through the write port (MEM = wr_mem)
//   run N TINV SEED STOP READY LEN T0 T1 ...
//                          write the prompt, pulse start, run to done; STOP = number of
//                          tokens after which stop is raised (-1: never), READY = 0 for
//                          tok_ready always high, else a seed for a random tok_ready
//   hash                   print the model hash
//   quit
//
// Replies: "tok T CYCLES" per delivered token (cycle_count at delivery),
// "done CYCLES TOKENS" at the end of a run, "hash HEX", "ok", "error MSG".
// Plusargs: +trace=FILE.fst (builds with --trace-fst), +dump=FILE (TRITGPT_DUMP
// builds: every intermediate vector), +maxcycles=N per run. With +prompt=TEXT
// (and +n=N, +tinv=T, +seed=S) the bench runs that one generation with the
// $readmemh images and prints the text instead of reading commands.

#include "Vtritgpt_core.h"
#include "verilated.h"
#if VM_TRACE
#include "verilated_fst_c.h"
#endif
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

static Vtritgpt_core* top;
static uint64_t sim_time = 0;
#if VM_TRACE
static VerilatedFstC* tfp = nullptr;
#endif

static void tick() {
    top->clk = 0;
    top->eval();
#if VM_TRACE
    if (tfp) tfp->dump(sim_time);
#endif
    sim_time += 5;
    top->clk = 1;
    top->eval();
#if VM_TRACE
    if (tfp) tfp->dump(sim_time);
#endif
    sim_time += 5;
}

static uint32_t xs(uint32_t& s) {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    return s;
}

static bool write_image(int mem, const std::string& path) {
    std::ifstream f(path);
    if (!f) return false;
    std::string line;
    uint32_t addr = 0;
    while (std::getline(f, line)) {
        if (line.empty() || line[0] == '/') continue;
        top->wr_en = 1;
        top->wr_mem = mem;
        top->wr_addr = addr++;
        top->wr_data = (uint32_t)strtoul(line.c_str(), nullptr, 16);
        tick();
    }
    top->wr_en = 0;
    tick();
    return true;
}

int main(int argc, char** argv) {
    Verilated::commandArgs(argc, argv);
    top = new Vtritgpt_core;
    const char* tr = Verilated::commandArgsPlusMatch("trace=");
#if VM_TRACE
    if (tr && tr[0]) {
        Verilated::traceEverOn(true);
        tfp = new VerilatedFstC;
        top->trace(tfp, 99);
        tfp->open(tr + strlen("+trace="));
    }
#else
    if (tr && tr[0]) fprintf(stderr, "warning: built without tracing, +trace ignored\n");
#endif
    uint64_t maxcycles = 50000000ULL;
    const char* mc = Verilated::commandArgsPlusMatch("maxcycles=");
    if (mc && mc[0]) maxcycles = strtoull(mc + strlen("+maxcycles="), nullptr, 10);

    top->rst = 1;
    top->start = 0; top->stop = 0; top->prompt_we = 0; top->wr_en = 0; top->tok_ready = 1;
    for (int i = 0; i < 4; i++) tick();
    top->rst = 0;
    // wait for the consts load after reset
    for (int i = 0; i < 200 && true; i++) tick();

    const char* pa = Verilated::commandArgsPlusMatch("prompt=");
    std::istringstream script;
    bool text_mode = false;
    std::string text;
    if (pa && pa[0]) {
        text_mode = true;
        auto plus = [](const char* key, long dflt) {
            const char* m = Verilated::commandArgsPlusMatch(key);
            return (m && m[0]) ? strtol(m + strlen(key) + 1, nullptr, 10) : dflt;
        };
        std::string prompt = pa + strlen("+prompt=");
        long n = plus("n=", 32), tinv = plus("tinv=", 0), seed = plus("seed=", 1);
        std::ostringstream cmd;
        cmd << "run " << n << " " << tinv << " " << seed << " -1 0 " << prompt.size();
        for (unsigned char ch : prompt) cmd << " " << (int)(ch < 128 ? ch : '?');
        std::cout.flush();
        // run it through the command loop below, printing the text at the end
        script.str(cmd.str() + "\nquit\n");
        std::cin.rdbuf(script.rdbuf());
        text = prompt;
        printf("model hash %016llx\n", (unsigned long long)top->model_hash);
        printf("prompt: %s\n", prompt.c_str());
    }
    std::string line;
    while (std::getline(std::cin, line)) {
        std::istringstream is(line);
        std::string cmd;
        is >> cmd;
        if (cmd == "quit") break;
        if (cmd == "wr") {
            int mem; std::string path;
            is >> mem >> path;
            if (!write_image(mem, path)) printf("error cannot read %s\n", path.c_str());
            else printf("ok\n");
        } else if (cmd == "hash") {
            printf("hash %016llx\n", (unsigned long long)top->model_hash);
        } else if (cmd == "run") {
            long n, tinv, stop_after; unsigned long seed, ready_seed; int len;
            is >> n >> tinv >> seed >> stop_after >> ready_seed >> len;
            std::vector<int> prompt(len);
            for (int i = 0; i < len; i++) is >> prompt[i];
            for (int i = 0; i < len; i++) {
                top->prompt_we = 1; top->prompt_addr = i & 255; top->prompt_data = prompt[i];
                tick();
            }
            top->prompt_we = 0;
            top->prompt_len = len; top->n_tokens = n; top->tinv = tinv; top->seed = seed;
            top->start = 1;
            tick();
            top->start = 0;
            uint32_t rs = ready_seed ? (uint32_t)ready_seed : 1;
            long got = 0;
            uint64_t c = 0;
            bool ok = false;
            for (c = 0; c < maxcycles; c++) {
                top->tok_ready = ready_seed ? (xs(rs) & 3) == 0 : 1;
                top->stop = (stop_after >= 0 && got >= stop_after) ? 1 : 0;
                top->eval();
                bool deliver = top->tok_valid && top->tok_ready;
                int t = top->tok_data;
                tick();
                if (deliver) {
                    got++;
                    printf("tok %d %u\n", t, top->cycle_count);
                    text += (char)t;
                }
                if (top->done) { ok = true; break; }
            }
            top->stop = 0; top->tok_ready = 1;
            if (!ok) printf("error timeout after %llu cycles\n", (unsigned long long)c);
            else printf("done %u %u\n", top->cycle_count, top->tok_count);
            if (text_mode && got)
                printf("text: %s\ncycles/token: %.1f\n", text.c_str(), (double)top->cycle_count / got);
            tick();
        } else if (!cmd.empty()) {
            printf("error unknown command %s\n", cmd.c_str());
        }
        fflush(stdout);
    }
#if VM_TRACE
    if (tfp) tfp->close();
#endif
    top->final();
    delete top;
    return 0;
}
