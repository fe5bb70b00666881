// Requantisation of the matrix-vector row sums:
//   y = sat(rshift_round(acc * M, S))  with (M, S) per matrix,
// saturating to int8 (Q, K, V), int16 (Wo, W2, LM head) or clipping to
// [0, 127] (W1: the ReLU). RMAX lanes, one DSP48 each, so requantisation keeps
// pace with the tree (256 / d_model rows per cycle).
//
// Latency: 5 cycles (3 multiply, 2 round/saturate). The destination of every
// row (q, k, v, residual, FFN activation, logits) travels with it. The input
// sideband leads in_acc by one cycle: its decode (matrix, destination, row)
// is registered before the row sums arrive, so the long way from the
// matrix-vector unit ends in a register, not in the shift of every lane.

`default_nettype none

module tg_requant #(
    parameter D    = 64,
    parameter RMAX = 4,
    parameter TW   = 4
) (
    input  wire              clk,
    input  wire              rst,
    // per-matrix constants of the current layer: {S[21:16], M[15:0]} per word
    // index 0..5 = wq wk wv wo w1 w2, 6 = LM head
    input  wire [7*22-1:0]   rq,
    // row sums from the matrix-vector unit; valid, tag, row0 and last lead in_acc by one cycle
    input  wire              in_valid,
    input  wire [TW-1:0]     in_tag,
    input  wire [8:0]        in_row0,
    input  wire              in_last,
    input  wire [RMAX*17-1:0] in_acc,
    // requantised rows
    output wire              out_valid,
    output wire [2:0]        out_dest,
    output wire [8:0]        out_row0,     // row within its matrix
    output wire              out_last,     // last row of the command
    output wire [RMAX*16-1:0] out_y,
    output wire [RMAX*16-1:0] out_y_res,   // out_y in flip-flops of its own, for the residual add
    // the sideband of the next cycle's output, for consumers that decode it
    // into registers (the KV cache's bank selects)
    output wire              next_valid,
    output wire [2:0]        next_dest,
    output wire [8:0]        next_row0
);
    // tags of matrix-vector commands
    localparam TAG_QKV = 0, TAG_WO = 1, TAG_W1 = 2, TAG_W2 = 3;   // else the LM head
    // destinations
    localparam DST_Q = 0, DST_K = 1, DST_V = 2, DST_ATT = 3, DST_ACT = 4, DST_FFN = 5, DST_LOGIT = 6;

    // matrix of this word
    reg [2:0] mat, dest;
    reg [8:0] row;
    always @(*) begin
        row = in_row0;
        case (in_tag)
            TAG_QKV: begin
                if (in_row0 >= 2 * D)  begin mat = 3'd2; dest = DST_V; row = in_row0 - 2 * D; end
                else if (in_row0 >= D) begin mat = 3'd1; dest = DST_K; row = in_row0 - D; end
                else                   begin mat = 3'd0; dest = DST_Q; end
            end
            TAG_WO:  begin mat = 3'd3; dest = DST_ATT; end
            TAG_W1:  begin mat = 3'd4; dest = DST_ACT; end
            TAG_W2:  begin mat = 3'd5; dest = DST_FFN; end
            default: begin mat = 3'd6; dest = DST_LOGIT; end
        endcase
    end
    wire [1:0]  mode = dest == DST_ACT ? 2'd2 : (dest == DST_Q || dest == DST_K || dest == DST_V) ? 2'd0 : 2'd1;

    // the decode, registered in the cycle before the row sums arrive
    reg  [2:0]  mat_r;
    reg  [1:0]  mode_r;
    reg  [13:0] sb_r;                        // valid, last, dest, row
    always @(posedge clk) begin
        mat_r  <= mat;
        mode_r <= mode;
        if (rst) sb_r <= 14'd0;
        else     sb_r <= {in_valid, in_last, dest, row};
    end
    // rq is the FSM's mux of the current layer's constants; a local copy keeps
    // that mux out of the matrix select below. It changes with the layer, which
    // is many cycles before that layer's first row gets here (asserted below).
    reg  [7*22-1:0] rq_r;
    always @(posedge clk) rq_r <= rq;
    wire [21:0] c   = rq_r[mat_r*22 +: 22];
    wire [15:0] mm  = c[15:0];
    // The shift is selected and registered first, then clamped: the select and
    // the clamp in one cycle were one of the 100 MHz runs' worst paths. The
    // multiplier's M goes on at once (the shift is needed two cycles later).
    reg  [5:0]  ss;
    reg  [1:0]  mode_r2;
    always @(posedge clk) begin
        ss      <= c[21:16];
        mode_r2 <= mode_r;
    end
    // |acc * M| < 2^34, so any shift >= 36 gives 0, as does 36 itself
    wire [5:0]  s_off = (ss > 6'd36 ? 6'd36 : (ss == 6'd0 ? 6'd1 : ss)) - 6'd1;

    // sideband: valid, last, dest, row (5 cycles); shift and mode (3 cycles: the
    // register above, one delay, then a copy per lane: each drives a 36-bit shifter)
    wire [13:0] sb_4, sb_out;
    tg_delay #(.W(14), .N(4)) u_sb4 (.clk(clk), .rst(rst), .d(sb_r), .q(sb_4));
    tg_delay #(.W(14), .N(1)) u_sb  (.clk(clk), .rst(rst), .d(sb_4), .q(sb_out));
    wire [7:0] sm_2;
    tg_delay #(.W(8), .N(1)) u_sm (.clk(clk), .rst(rst), .d({s_off, mode_r2}), .q(sm_2));

    genvar r;
    generate for (r = 0; r < RMAX; r = r + 1) begin : g_lane
        /* verilator lint_off UNUSEDSIGNAL */
        wire signed [42:0] p;                    // |acc * M| < 2^34
        /* verilator lint_on UNUSEDSIGNAL */
        wire signed [16:0] acc = in_acc[r*17 +: 17];
        wire [7:0] sm_out;
        tg_copy_reg #(.W(8)) u_sm_copy (.clk(clk), .rst(rst), .d(sm_2), .q(sm_out));
        tg_mac_slice u_mul (.clk(clk), .a({{8{acc[16]}}, acc}), .b({2'b00, mm}), .p(p));
        tg_round_sat #(.PW(36), .SMIN(1), .SBITS(6), .COPY(1)) u_rs (
            .clk(clk), .p(p[35:0]), .s_off(sm_out[7:2]), .mode(sm_out[1:0]),
            .y(out_y[r*16 +: 16]), .y_copy(out_y_res[r*16 +: 16]));
    end endgenerate

`ifdef TRITGPT_ASSERT
    always @(posedge clk)
        if (sb_r[13] && rq_r !== rq)
            $display("ASSERT tg_requant: a row is requantised while the layer's constants change");
`endif

    assign out_valid = sb_out[13];
    assign out_last  = sb_out[12];
    assign out_dest  = sb_out[11:9];
    assign out_row0  = sb_out[8:0];
    assign next_valid = sb_4[13];
    assign next_dest  = sb_4[11:9];
    assign next_row0  = sb_4[8:0];
endmodule

`default_nettype wire
