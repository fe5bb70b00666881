// TEST FIXTURE: rtl/tritgpt_proto.v with the behavioural fake core
// (tests/rtl/fake_core.v), byte streams exposed, for tests/cocotb_proto.py.
//
// tx_period throttles the tx side like a slow UART: tx_tready is high one
// cycle in tx_period (>= 2, so tx_fire has an edge per byte). core_stall
// counts cycles the core spent with a token refused (back-pressure).

`default_nettype none

`include "tritgpt_config.vh"

module proto_tb #(
    parameter WEIGHTS_DIR = "weights/default/",
    parameter TIMEOUT_CYCLES = 3000
) (
    input  wire        clk,
    input  wire        rst,
    input  wire [7:0]  rx_tdata,
    input  wire        rx_tvalid,
    output wire        rx_tready,
    input  wire        rx_overrun,
    input  wire        rx_frame_error,
    output wire [7:0]  tx_tdata,
    output wire        tx_tvalid,
    input  wire [15:0] tx_period,
    output wire        tx_fire,
    output wire        idle,
    output wire        running,
    output wire        error_pulse,
    output reg  [31:0] core_stall = 32'd0,
    output wire        core_busy
);
    reg [15:0] tcnt = 16'd0;
    wire tx_tready = tcnt == 16'd0;
    assign tx_fire = tx_tvalid && tx_tready;
    always @(posedge clk)
        tcnt <= (tcnt + 16'd1 >= tx_period) ? 16'd0 : tcnt + 16'd1;

    wire        prompt_we, start, stop, tok_valid, tok_ready, done, wr_en;
    wire [7:0]  prompt_addr, prompt_data, tok_data;
    wire [8:0]  prompt_len;
    wire [15:0] n_tokens, tinv, tok_count, wr_addr;
    wire [31:0] seed, cycle_count, wr_data;
    wire [63:0] model_hash;
    wire [5:0]  wr_mem;

    always @(posedge clk)
        if (tok_valid && !tok_ready)
            core_stall <= core_stall + 32'd1;

    tritgpt_proto #(
        .CLK_HZ(100_000_000), .BAUD(12_500_000), .TIMEOUT_CYCLES(TIMEOUT_CYCLES),
        .CONTEXT(`TG_CONTEXT), .VOCAB(`TG_VOCAB), .D_MODEL(`TG_D_MODEL), .N_HEADS(`TG_N_HEADS),
        .D_FF(`TG_D_FF), .N_LAYERS(`TG_N_LAYERS), .LANES(`TG_LANES)
    ) u_proto (
        .clk(clk), .rst(rst),
        .rx_tdata(rx_tdata), .rx_tvalid(rx_tvalid), .rx_tready(rx_tready),
        .rx_overrun(rx_overrun), .rx_frame_error(rx_frame_error),
        .tx_tdata(tx_tdata), .tx_tvalid(tx_tvalid), .tx_tready(tx_tready),
        .core_prompt_we(prompt_we), .core_prompt_addr(prompt_addr), .core_prompt_data(prompt_data),
        .core_start(start), .core_prompt_len(prompt_len), .core_n_tokens(n_tokens),
        .core_tinv(tinv), .core_seed(seed), .core_stop(stop),
        .core_busy(core_busy), .core_done(done),
        .core_tok_data(tok_data), .core_tok_valid(tok_valid), .core_tok_ready(tok_ready),
        .core_cycle_count(cycle_count), .core_tok_count(tok_count), .core_model_hash(model_hash),
        .core_wr_en(wr_en), .core_wr_mem(wr_mem), .core_wr_addr(wr_addr), .core_wr_data(wr_data),
        .idle(idle), .running(running), .error_pulse(error_pulse)
    );

    tritgpt_core #(.WEIGHTS_DIR(WEIGHTS_DIR)) u_core (
        .clk(clk), .rst(rst),
        .prompt_we(prompt_we), .prompt_addr(prompt_addr), .prompt_data(prompt_data),
        .start(start), .prompt_len(prompt_len), .n_tokens(n_tokens), .tinv(tinv), .seed(seed),
        .stop(stop), .busy(core_busy), .done(done),
        .tok_data(tok_data), .tok_valid(tok_valid), .tok_ready(tok_ready),
        .cycle_count(cycle_count), .tok_count(tok_count), .model_hash(model_hash),
        .wr_en(wr_en), .wr_mem(wr_mem), .wr_addr(wr_addr), .wr_data(wr_data)
    );
endmodule

`default_nettype wire
