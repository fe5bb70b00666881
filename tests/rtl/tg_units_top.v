// Test wrapper for the core's arithmetic blocks (tests/test_rtl_units.py): the
// requantiser's round-shift-saturate lane, the normaliser's lane, one DSP48
// multiplier slice and the xorshift32 step, side by side.
`default_nettype none
module tg_units_top (
    input  wire               clk,
    input  wire signed [35:0] pa,       // requant lane: shift 1 + sa, mode ma
    input  wire [5:0]         sa,
    input  wire [1:0]         ma,
    output wire signed [15:0] ya,
    output wire signed [15:0] ya_copy,  // the lane's second output register (COPY = 1, as in the core)
    input  wire signed [39:0] pb,       // norm / attention lane: shift 16 + sb, int8
    input  wire [3:0]         sb,
    output wire signed [15:0] yb,
    input  wire signed [24:0] a,        // DSP48 slice
    input  wire signed [17:0] b,
    output wire signed [42:0] p,
    input  wire [31:0]        s,        // xorshift32
    output wire [31:0]        n
);
    tg_round_sat #(.PW(36), .SMIN(1), .SBITS(6), .COPY(1)) u_a (.clk(clk), .p(pa), .s_off(sa), .mode(ma),
                                                               .y(ya), .y_copy(ya_copy));
    /* verilator lint_off UNUSEDSIGNAL */
    wire signed [15:0] yb_copy;         // yb itself (COPY = 0)
    /* verilator lint_on UNUSEDSIGNAL */
    tg_round_sat #(.PW(40), .SMIN(16), .SBITS(4)) u_b (.clk(clk), .p(pb), .s_off(sb), .mode(2'd0),
                                                       .y(yb), .y_copy(yb_copy));
    tg_mac_slice u_m (.clk(clk), .a(a), .b(b), .p(p));
    tg_xorshift32 u_x (.s(s), .n(n));
endmodule
`default_nettype wire
