// Board top level: UART <-> command protocol <-> tritgpt core.
//
//   uart_rx -> tritgpt_proto -> uart_tx      (protocol: docs/protocol.md)
//                   |
//              tritgpt_core                   (weights from WEIGHTS_DIR)
//
// No reset pin: an internal power-on reset holds everything in reset for the
// first 16 cycles after configuration (each block through its own copy of it).
//
// LEDs: led[0] idle (ready for a command, nothing in flight)
//       led[1] busy (a generate or bench run is in progress)
//       led[2] error (lit for 1/4 s after every ERROR frame)
//       led[3] heartbeat (toggles every 1/2 s)
//
// Clock: `clk` is the board oscillator; everything runs on clk_design = clk /
// CLK_DIV (tg_clock_divider), and CLK_HZ is that design clock's frequency.
//
// BAUD is a build-time choice: a board build sets its board's rate ([uart] baud in
// constraints/NAME.toml: 2 Mbaud on the 100 MHz boards, 1 Mbaud on the 12 and 25 MHz
// ones, so the UART carries the core's tokens/s; docs/protocol.md, "Choosing the
// rate"); 115200 is the parameter's default. Any rate with CLK_HZ / BAUD >= 4 works.
//
// The model configuration (context length, widths) comes from the weights
// package's tritgpt_config.vh, found on the include path (WEIGHTS_DIR).

`default_nettype none
// Registers start from their declared values when the FPGA is configured (and
// are reset where a restart needs it): Verilator's PROCASSINIT style warning is
// about exactly that idiom, so it is off in this file.
/* verilator lint_off PROCASSINIT */

`include "tritgpt_config.vh"

module tritgpt_top #(
    parameter CLK_HZ = 100_000_000,   // design clock (after CLK_DIV)
    parameter CLK_DIV = 1,            // design clock = board clock / CLK_DIV
    parameter BAUD = 115200,
    parameter WEIGHTS_DIR = "weights/default/"
) (
    input  wire       clk,
    input  wire       uart_rx,
    output wire       uart_tx,
    output wire [3:0] led
);

    // ------------------------------------------------------------------
    // design clock: the board clock, or an integer fraction of it on a BUFGCE
    // ------------------------------------------------------------------
    wire clk_design;
    tg_clock_divider #(.DIV(CLK_DIV)) u_clock (.clk_in(clk), .clk_out(clk_design));

    // ------------------------------------------------------------------
    // power-on reset
    // ------------------------------------------------------------------
    reg [4:0] por = 5'd0;
    reg       rst = 1'b1;
    always @(posedge clk_design) begin
        if (!por[4])
            por <= por + 5'd1;
        rst <= !por[4];
    end
    // one copy per block beside the core (the core copies `rst` per block inside,
    // the same cycle later): no reset net spans the die
    wire rst_uart_rx, rst_uart_tx, rst_proto;
    tg_copy_reg #(.INIT(1'b1)) u_rst [2:0] (.clk(clk_design), .rst(1'b0), .d(rst),
        .q({rst_uart_rx, rst_uart_tx, rst_proto}));

    // ------------------------------------------------------------------
    // UART
    // ------------------------------------------------------------------
    wire [7:0] rx_tdata;
    wire       rx_tvalid, rx_tready, rx_busy, rx_overrun, rx_frame_error;
    wire [7:0] tx_tdata;
    wire       tx_tvalid, tx_tready, tx_busy;

    uart_rx #(.CLK_HZ(CLK_HZ), .BAUD(BAUD)) u_uart_rx (
        .clk(clk_design), .rst(rst_uart_rx),
        .m_axis_tdata(rx_tdata), .m_axis_tvalid(rx_tvalid), .m_axis_tready(rx_tready),
        .rxd(uart_rx),
        .busy(rx_busy), .overrun_error(rx_overrun), .frame_error(rx_frame_error)
    );

    uart_tx #(.CLK_HZ(CLK_HZ), .BAUD(BAUD)) u_uart_tx (
        .clk(clk_design), .rst(rst_uart_tx),
        .s_axis_tdata(tx_tdata), .s_axis_tvalid(tx_tvalid), .s_axis_tready(tx_tready),
        .txd(uart_tx), .busy(tx_busy)
    );

    // ------------------------------------------------------------------
    // protocol engine and core
    // ------------------------------------------------------------------
    wire        prompt_we;
    wire [7:0]  prompt_addr, prompt_data;
    wire        start, stop;
    wire [8:0]  prompt_len;
    wire [15:0] n_tokens, tinv;
    wire [31:0] seed;
    wire        core_busy, core_done;
    wire [7:0]  tok_data;
    wire        tok_valid, tok_ready;
    wire [31:0] cycle_count;
    wire [15:0] tok_count;
    wire [63:0] model_hash;
    wire        wr_en;
    wire [5:0]  wr_mem;
    wire [15:0] wr_addr;
    wire [31:0] wr_data;
    wire        proto_idle, running, error_pulse;

    tritgpt_proto #(
        .CLK_HZ(CLK_HZ), .BAUD(BAUD), .TIMEOUT_CYCLES(CLK_HZ / 50),
        .CONTEXT(`TG_CONTEXT), .VOCAB(`TG_VOCAB), .D_MODEL(`TG_D_MODEL),
        .N_HEADS(`TG_N_HEADS), .D_FF(`TG_D_FF), .N_LAYERS(`TG_N_LAYERS),
        .LANES(`TG_LANES)
    ) u_proto (
        .clk(clk_design), .rst(rst_proto),
        .rx_tdata(rx_tdata), .rx_tvalid(rx_tvalid), .rx_tready(rx_tready),
        .rx_overrun(rx_overrun), .rx_frame_error(rx_frame_error),
        .tx_tdata(tx_tdata), .tx_tvalid(tx_tvalid), .tx_tready(tx_tready),
        .core_prompt_we(prompt_we), .core_prompt_addr(prompt_addr), .core_prompt_data(prompt_data),
        .core_start(start), .core_prompt_len(prompt_len), .core_n_tokens(n_tokens),
        .core_tinv(tinv), .core_seed(seed), .core_stop(stop),
        .core_busy(core_busy), .core_done(core_done),
        .core_tok_data(tok_data), .core_tok_valid(tok_valid), .core_tok_ready(tok_ready),
        .core_cycle_count(cycle_count), .core_tok_count(tok_count), .core_model_hash(model_hash),
        .core_wr_en(wr_en), .core_wr_mem(wr_mem), .core_wr_addr(wr_addr), .core_wr_data(wr_data),
        .idle(proto_idle), .running(running), .error_pulse(error_pulse)
    );

    tritgpt_core #(.WEIGHTS_DIR(WEIGHTS_DIR)) u_core (
        .clk(clk_design), .rst(rst),
        .prompt_we(prompt_we), .prompt_addr(prompt_addr), .prompt_data(prompt_data),
        .start(start), .prompt_len(prompt_len),
        .n_tokens(n_tokens), .tinv(tinv), .seed(seed),
        .stop(stop),
        .busy(core_busy), .done(core_done),
        .tok_data(tok_data), .tok_valid(tok_valid), .tok_ready(tok_ready),
        .cycle_count(cycle_count), .tok_count(tok_count), .model_hash(model_hash),
        .wr_en(wr_en), .wr_mem(wr_mem), .wr_addr(wr_addr), .wr_data(wr_data)
    );

    // ------------------------------------------------------------------
    // LEDs
    // ------------------------------------------------------------------
    // Both counters count down and stop (or reload) when they pass zero, so
    // their enable is the sign bit: a 32-bit compare in front of a 32-bit
    // carry chain was one of the 100 MHz placements' worst paths.
    localparam [32:0] HALF_SECOND = CLK_HZ / 2;
    localparam [32:0] QUARTER_SECOND = CLK_HZ / 4;
    reg [32:0] hb_left = HALF_SECOND - 33'd2;   // toggles after HALF_SECOND cycles
    reg        heartbeat = 1'b0;
    reg [32:0] err_left = {33{1'b1}};            // >= 0 while the error LED is lit

    always @(posedge clk_design) begin
        if (hb_left[32]) begin
            hb_left <= HALF_SECOND - 33'd2;
            heartbeat <= !heartbeat;
        end else begin
            hb_left <= hb_left - 33'd1;
        end
        if (error_pulse)
            err_left <= QUARTER_SECOND - 33'd1;  // lit for QUARTER_SECOND cycles
        else if (!err_left[32])
            err_left <= err_left - 33'd1;
    end

    assign led[0] = proto_idle && !rx_busy && !tx_busy && !core_busy;
    assign led[1] = running || core_busy;
    assign led[2] = !err_left[32];
    assign led[3] = heartbeat;

endmodule

/* verilator lint_on PROCASSINIT */
`default_nettype wire
