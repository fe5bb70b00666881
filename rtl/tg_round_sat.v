// Round-half-up arithmetic right shift and saturation, the model's
//   y = sat(rshift_round(p, s)) = sat((p + 2^(s-1)) >> s),  s = SMIN + s_off.
// Computed as ((p >>> (s-1)) + 1) >>> 1, which is the same integer.
// Modes: 0 = sat to int8, 1 = sat to int16, 2 = clip to [0, 127] (ReLU).
// Two pipeline stages: y is valid two cycles after p.

`default_nettype none

module tg_round_sat #(
    parameter PW    = 40,   // width of p (signed)
    parameter SMIN  = 1,    // smallest shift
    parameter SBITS = 6     // s_off range 0 .. 2^SBITS-1
) (
    input  wire                 clk,
    input  wire signed [PW-1:0] p,
    input  wire [SBITS-1:0]     s_off,
    input  wire [1:0]           mode,
    output reg  signed [15:0]   y
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
    wire signed [QW:0] qe = {q[QW-1], q};                        // (concatenations are unsigned)
    wire signed [QW:0] qp = qe + $signed({{QW{1'b0}}, 1'b1});
    wire signed [QW:0] r  = qp >>> 1;
    wire hi8  = r > $signed({{(QW-7){1'b0}}, 8'd127});
    wire lo8  = r < -$signed({{(QW-7){1'b0}}, 8'd128});
    wire hi16 = r > $signed({{(QW-15){1'b0}}, 16'd32767});
    wire lo16 = r < -$signed({{(QW-15){1'b0}}, 16'd32768});
    always @(posedge clk) begin
        case (mode_r)
            2'd1:    y <= hi16 ? 16'sd32767 : lo16 ? -16'sd32768 : r[15:0];
            2'd2:    y <= hi8 ? 16'sd127 : r[QW] ? 16'sd0 : r[15:0];
            default: y <= hi8 ? 16'sd127 : lo8 ? -16'sd128 : r[15:0];
        endcase
    end
endmodule

`default_nettype wire
