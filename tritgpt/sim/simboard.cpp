// Simulated board: runs the Verilator model of tritgpt_top and bridges its
// UART pins to a pseudo-terminal (the master side is passed in as --fd N).
//
// Bytes read from the pty are driven onto uart_rx as 8N1 bit waveforms; the
// uart_tx waveform is sampled at mid-bit and decoded back into bytes that are
// written to the pty. Both sides time the bits as rtl/uart_tx.v and uart_rx.v do:
// a bit lasts CLK_HZ / BAUD cycles, kept exact on average by the same 1/256-cycle
// accumulator (--clk-hz and --baud of the build; --cycles-per-bit N for a whole
// number), so the link runs at the build's real rate in simulated time and the
// DUT's own uart_rx / uart_tx RTL is what talks.
//
// When the design is idle (led[0]) and no byte is in flight, the simulation
// waits in poll() instead of burning clock cycles; simulated time then stands
// still, which nothing idle can observe except the heartbeat LED.
//
// Like a real USB-UART bridge with nobody reading, output that the pty cannot
// take is buffered up to a limit and then dropped (and counted).

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <vector>

#include "Vtritgpt_top.h"
#include "verilated.h"

static volatile sig_atomic_t g_stop = 0;
static void on_signal(int) { g_stop = 1; }

static const size_t TX_LIMIT = 1 << 20;

// No byte is driven onto uart_rx before this board cycle. The power-on reset
// (rtl/tritgpt_top.v) holds the design for 17 design cycles of CLK_DIV board
// cycles each; a start bit begun inside it is half-seen by a UART held in reset
// and the frame decodes as garbage. A host that writes before the simulation has
// run its first cycle (a loaded machine) would otherwise hit that window; a real
// board is configured long before anyone can type.
static const unsigned long long BOOT_CYCLES = 1024;

int main(int argc, char** argv) {
    int fd = -1;
    unsigned long long cpb = 8, clk_hz = 0, baud = 0;
    unsigned long long max_cycles = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--fd") && i + 1 < argc) fd = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--cycles-per-bit") && i + 1 < argc) cpb = strtoull(argv[++i], nullptr, 10);
        else if (!strcmp(argv[i], "--clk-hz") && i + 1 < argc) clk_hz = strtoull(argv[++i], nullptr, 10);
        else if (!strcmp(argv[i], "--baud") && i + 1 < argc) baud = strtoull(argv[++i], nullptr, 10);
        else if (!strcmp(argv[i], "--max-cycles") && i + 1 < argc) max_cycles = strtoull(argv[++i], nullptr, 10);
    }
    // bit period in 1/256 cycles, rounded to nearest: rtl/uart_tx.v's PERIOD_Q8
    const unsigned long long ONE = 256;
    const unsigned long long period = (clk_hz && baud) ? (ONE * clk_hz + baud / 2) / baud : ONE * cpb;
    if (fd < 0 || period < 4 * ONE || (!clk_hz != !baud)) {
        fprintf(stderr, "usage: %s --fd PTY_MASTER_FD [--clk-hz HZ --baud BAUD | --cycles-per-bit N] "
                        "[--max-cycles N]   (CLK_HZ / BAUD >= 4)\n", argv[0]);
        return 2;
    }
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);

    VerilatedContext* ctx = new VerilatedContext;
    ctx->commandArgs(argc, argv);
    Vtritgpt_top* top = new Vtritgpt_top{ctx};
    top->clk = 0;
    top->uart_rx = 1;
    top->eval();

    std::deque<uint8_t> rxq;      // pty -> DUT
    std::vector<uint8_t> txbuf;   // DUT -> pty
    unsigned long long cycle = 0, bytes_in = 0, bytes_out = 0, dropped = 0, framing = 0;

    // both sides count down a 1/256-cycle accumulator as the RTL does: the cycle on
    // which it is below 2 * ONE is the last of a bit (tx) or the sampling point (rx)
    int drv_bit = -1;
    unsigned long long drv_acc = 0;
    unsigned drv_shift = 0;
    int dec_active = 0, dec_bit = 0;
    unsigned long long dec_acc = 0;
    unsigned dec_byte = 0;
    unsigned long long tx_first = 0, tx_last = 0;  // cycles of the first and last byte out

    uint8_t buf[4096];
    auto read_input = [&]() {
        for (;;) {
            ssize_t n = read(fd, buf, sizeof buf);
            if (n > 0) {
                rxq.insert(rxq.end(), buf, buf + n);
                bytes_in += n;
                if ((size_t)n < sizeof buf) return;
            } else {
                return;  // EAGAIN, EIO (no client) or EOF: nothing now
            }
        }
    };
    auto flush_output = [&]() {
        while (!txbuf.empty()) {
            ssize_t n = write(fd, txbuf.data(), txbuf.size());
            if (n <= 0) break;
            txbuf.erase(txbuf.begin(), txbuf.begin() + n);
        }
    };

    printf("READY period_q8=%llu cycles_per_bit=%.3f\n", period, period / 256.0);
    fflush(stdout);

    while (!g_stop && !ctx->gotFinish()) {
        bool quiet = rxq.empty() && drv_bit < 0 && !dec_active && (top->led & 1) && cycle >= BOOT_CYCLES;
        if (quiet) {
            flush_output();
            struct pollfd p;
            p.fd = fd;
            p.events = POLLIN | (txbuf.empty() ? 0 : POLLOUT);
            p.revents = 0;
            if (poll(&p, 1, 20) > 0 && (p.revents & POLLIN)) read_input();
            if (rxq.empty()) continue;
        }
        if ((cycle & 255) == 0) {
            read_input();
            flush_output();
        }

        // drive uart_rx: start bit, 8 data bits LSB first, stop bit
        if (drv_bit < 0 && !rxq.empty() && cycle >= BOOT_CYCLES) {
            drv_shift = ((unsigned)rxq.front() << 1) | 0x200u;
            rxq.pop_front();
            drv_bit = 0;
            drv_acc = period;
        }
        if (drv_bit >= 0) {
            top->uart_rx = (drv_shift >> drv_bit) & 1;
            if (drv_acc < 2 * ONE) {
                drv_acc = drv_acc - ONE + period;
                if (++drv_bit == 10) drv_bit = -1;
            } else {
                drv_acc -= ONE;
            }
        } else {
            top->uart_rx = 1;
        }

        top->clk = 1;
        top->eval();
        top->clk = 0;
        top->eval();
        cycle++;

        // decode uart_tx: sample each bit in its middle (the start edge is seen on the
        // cycle it happens: no synchroniser here, so half a bit from now is mid-start-bit)
        if (!dec_active) {
            if (!top->uart_tx) {
                dec_active = 1;
                dec_bit = -1;
                dec_byte = 0;
                dec_acc = period / 2;
            }
        } else if (dec_acc >= 2 * ONE) {
            dec_acc -= ONE;
        } else {
            dec_acc = dec_acc - ONE + period;
            if (dec_bit < 0) {
                if (top->uart_tx) dec_active = 0;   // a glitch, not a start bit
                else dec_bit = 0;
            } else if (dec_bit < 8) {
                dec_byte |= (unsigned)(top->uart_tx & 1) << dec_bit;
                dec_bit++;
            } else {
                if (top->uart_tx) {
                    if (txbuf.size() < TX_LIMIT) {
                        txbuf.push_back((uint8_t)dec_byte);
                        if (!bytes_out) tx_first = cycle;
                        tx_last = cycle;
                        bytes_out++;
                    } else {
                        dropped++;
                    }
                } else {
                    framing++;
                }
                dec_active = 0;
                if (txbuf.size() >= 64) flush_output();
            }
        }
        if (max_cycles && cycle >= max_cycles) break;
    }
    flush_output();
    top->final();
    fprintf(stderr, "simboard: %llu cycles, %llu bytes in, %llu bytes out (cycles %llu..%llu), %llu dropped, "
            "%llu framing errors\n", cycle, bytes_in, bytes_out, tx_first, tx_last, dropped, framing);
    delete top;
    delete ctx;
    return 0;
}
