// Round-half-up arithmetic right shift and saturation, the model's
//   y = sat(rshift_round(p, s)) = sat((p + 2^(s-1)) >> s),  s = SMIN + s_off.
// Computed as ((p >>> (s-1)) + 1) >>> 1, which is the same integer.
// Modes: 0 = sat to int8, 1 = sat to int16, 2 = clip to [0, 127] (ReLU).
// Two pipeline stages: y is valid two cycles after p. With COPY = 1, y_copy is
// a second register with y's value (kept apart by synthesis), for a user far
// from y's other loads; with COPY = 0 it is y itself.

`default_nettype none

module tg_round_sat #(
    parameter PW    = 40,   // width of p (signed)
    parameter SMIN  = 1,    // smallest shift
    parameter SBITS = 6,    // s_off range 0 .. 2^SBITS-1
    parameter COPY  = 0     // 1: y_copy has flip-flops of its own
) (
    input  wire                 clk,
    input  wire signed [PW-1:0] p,
    input  wire [SBITS-1:0]     s_off,
    input  wire [1:0]           mode,
    output reg  signed [15:0]   y,
    output wire signed [15:0]   y_copy
);
    localparam QW = PW - (SMIN - 1);   // width after the constant part of the shift
    // the constant part of the shift drops the low SMIN-1 bits
    /* verilator lint_off UNUSEDSIGNAL */
    wire signed [PW-1:0] p_sh  = p >>> (SMIN - 1);
    /* verilator lint_on UNUSEDSIGNAL */
    wire signed [QW-1:0] p_pre = p_sh[QW-1:0];
    reg  signed [QW-1:0] q;
    reg  [1:0]           mode_r;
    always @(posedge clk) begin
        q      <= p_pre >>> s_off;
        mode_r <= mode;
    end
    // r = (q + 1) >>> 1. The range tests are made on q itself, beside the
    // increment, which then needs only the 17 bits that reach r[15:0]:
    //   r > 127 <=> q > 254,   r < -128 <=> q < -257,   r < 0 <=> q < -1,
    //   r > 32767 <=> q > 65534,   r < -32768 <=> q < -65537.
    // Tested on r they were a second carry chain after the increment's, one
    // cycle of the requantiser lane's worst path.  (QW >= 18 for every user.)
    /* verilator lint_off UNUSEDSIGNAL */
    wire [16:0] qp  = q[16:0] + 17'd1;          // bit 0 is shifted out
    /* verilator lint_on UNUSEDSIGNAL */
    wire [15:0] r   = qp[16:1];
    wire hi8  = q > $signed({{(QW-9){1'b0}}, 9'd254});
    wire lo8  = q < -$signed({{(QW-10){1'b0}}, 10'd257});
    wire neg  = q < -$signed({{(QW-1){1'b0}}, 1'b1});
    wire hi16 = q > $signed({{(QW-17){1'b0}}, 17'd65534});
    wire lo16 = q < -$signed({{(QW-18){1'b0}}, 18'd65537});
    reg signed [15:0] y_n;
    always @(*)
        case (mode_r)
            2'd1:    y_n = hi16 ? 16'sd32767 : lo16 ? -16'sd32768 : r;
            2'd2:    y_n = hi8 ? 16'sd127 : neg ? 16'sd0 : r;
            default: y_n = hi8 ? 16'sd127 : lo8 ? -16'sd128 : r;
        endcase
    generate if (COPY) begin : g_copy
        // keep on both: yosys merges identical flip-flops (opt_merge) unless
        // both carry it
        reg signed [15:0] y2;
        (* keep *) always @(posedge clk) y  <= y_n;
        (* keep *) always @(posedge clk) y2 <= y_n;
        assign y_copy = y2;
`ifdef TRITGPT_ASSERT
        always @(posedge clk)
            if (y2 !== y) $display("ASSERT tg_round_sat: y_copy differs from y");
`endif
    end else begin : g_nocopy
        always @(posedge clk) y <= y_n;
        assign y_copy = y;
    end endgenerate
endmodule

`default_nettype wire
