// TEST FIXTURE, not a model: a behavioural stand-in for tritgpt_core with the
// same ports, used to test the UART, the protocol engine and the host tools
// independently of the real core.
//
// It emits a deterministic token sequence (tests/fake_core_ref.py mirrors it):
//   h     = sum over i < prompt_len of (i + 1) * history[i]        (32 bits)
//   state = seed_state(seed ^ h); then per token: state = xorshift32(state),
//   token = state[14:8]
// Each token takes LATENCY + 2 cycles of cycle_count (stalls excluded).
// Writes to memory 35 (consts) land in a small RAM; model_hash reads its words
// 2 and 3, like the real core's consts memory.

`default_nettype none

`include "tritgpt_config.vh"
`include "tritgpt_proto_defs.vh"

module tritgpt_core #(
    parameter WEIGHTS_DIR = "weights/default/",
    parameter LATENCY = 30
) (
    input  wire        clk,
    input  wire        rst,
    input  wire        prompt_we,
    input  wire [7:0]  prompt_addr,
    input  wire [7:0]  prompt_data,
    input  wire        start,
    input  wire [8:0]  prompt_len,
    input  wire [15:0] n_tokens,
    input  wire [15:0] tinv,
    input  wire [31:0] seed,
    input  wire        stop,
    output wire        busy,
    output reg         done,
    output wire [7:0]  tok_data,
    output wire        tok_valid,
    input  wire        tok_ready,
    output wire [31:0] cycle_count,
    output wire [15:0] tok_count,
    output wire [63:0] model_hash,
    input  wire        wr_en,
    input  wire [5:0]  wr_mem,
    input  wire [15:0] wr_addr,
    input  wire [31:0] wr_data
);
    reg [7:0]  hist [0:255];
    reg [31:0] consts [0:`TG_DEPTH_CONSTS - 1];
    initial $readmemh({WEIGHTS_DIR, "consts.hex"}, consts);

    localparam S_IDLE = 2'd0, S_COMP = 2'd1, S_OUT = 2'd2;
    reg [1:0]  st = S_IDLE;
    reg [31:0] rng = 32'd1;
    reg [15:0] count = 16'd0;
    reg [15:0] n = 16'd0;
    reg [31:0] cycles = 32'd0;
    reg [15:0] wait_n = 16'd0;
    reg [7:0]  tok = 8'd0;
    reg        stop_flag = 1'b0;
    /* verilator lint_off UNUSEDSIGNAL */
    reg [15:0] tinv_q = 16'd0;
    /* verilator lint_on UNUSEDSIGNAL */

    assign busy = st != S_IDLE;
    assign tok_valid = st == S_OUT;
    assign tok_data = tok;
    assign cycle_count = cycles;
    assign tok_count = count;
    assign model_hash = {consts[2], consts[3]};

    function [31:0] xorshift32(input [31:0] s);
        reg [31:0] x;
        begin
            x = s ^ (s << 13);
            x = x ^ (x >> 17);
            xorshift32 = x ^ (x << 5);
        end
    endfunction

    function [31:0] hist_sum(input [8:0] len);
        integer i;
        reg [31:0] h;
        begin
            h = 32'd0;
            for (i = 0; i < 256; i = i + 1)
                if (i < len)
                    h = h + (i + 1) * hist[i];
            hist_sum = h;
        end
    endfunction

    wire [31:0] s0 = seed ^ hist_sum(prompt_len);
    wire [31:0] rng_next = xorshift32(rng);

    always @(posedge clk) begin
        done <= 1'b0;
        if (prompt_we && st == S_IDLE)
            hist[prompt_addr] <= prompt_data;
        if (wr_en && st == S_IDLE && wr_mem == `TG_MEM_CONSTS && wr_addr < `TG_DEPTH_CONSTS)
            consts[wr_addr] <= wr_data;
        if (stop && st != S_IDLE)
            stop_flag <= 1'b1;

        if (rst) begin
            st <= S_IDLE;
            stop_flag <= 1'b0;
        end else begin
            case (st)
            S_IDLE: if (start) begin
                rng <= s0 == 32'd0 ? 32'h9E3779B9 : s0;
                n <= n_tokens;
                tinv_q <= tinv;
                count <= 16'd0;
                cycles <= 32'd0;
                wait_n <= LATENCY;
                stop_flag <= 1'b0;
                st <= S_COMP;
            end
            S_COMP: begin
                cycles <= cycles + 32'd1;
                if (wait_n == 16'd0) begin
                    rng <= rng_next;
                    tok <= {1'b0, rng_next[14:8]};
                    st <= S_OUT;
                end else begin
                    wait_n <= wait_n - 16'd1;
                end
            end
            S_OUT: if (tok_ready) begin
                cycles <= cycles + 32'd1;
                count <= count + 16'd1;
                wait_n <= LATENCY;
                if (count + 16'd1 == n || stop_flag || stop) begin
                    st <= S_IDLE;
                    done <= 1'b1;
                end else begin
                    st <= S_COMP;
                end
            end
            default: st <= S_IDLE;
            endcase
        end
    end
endmodule

`default_nettype wire
