// Shared multiplier array: NS = d_model/2 DSP48 slices (25 x 18 signed, three
// register stages) used in turn by attention (q.k and e*v, two INT8 products
// per slice by packing: a = hi*2^17 + lo, see tg_attention), RMSNorm (squares,
// x*g, xg*r) and the sampler. The users never overlap in time, so one array of
// 32 DSP48s does the work of ~64 INT8 MACs plus every normalisation multiply.
//
// The first 8 slices feed 8 round-shift-saturate lanes (shift 16..31, int8
// result) used by the RMSNorm output and the attention normaliser.
// Latency: p three cycles after a/b; pp_y five cycles after a/b (pp_soff is
// given with a/b and delayed here).

`default_nettype none

module tg_mac_array #(
    parameter NS = 32
) (
    input  wire              clk,
    input  wire              rst,
    input  wire [NS*25-1:0]  a,
    input  wire [NS*18-1:0]  b,
    input  wire [8*4-1:0]    pp_soff,     // shift - 16, per post-processing lane
    output wire [NS*43-1:0]  p,
    output wire [8*16-1:0]   pp_y
);
    wire [8*4-1:0] soff_d;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [8*16-1:0] unused_y_copy;    // pp_y itself (COPY = 0)
    /* verilator lint_on UNUSEDSIGNAL */
    // The lanes' shifts are often one value (every RMSNorm lane shifts by k + 1;
    // the attention's lanes of one head share theirs), and yosys then merges
    // their delay lines into one, whose last register drove the eight lanes'
    // barrel shifters across the die (a 10.4 ns net at 100 MHz). The last
    // stage is a copy per lane.
    wire [8*4-1:0] soff_d2;
    tg_delay #(.W(32), .N(2)) u_soff (.clk(clk), .rst(rst), .d(pp_soff), .q(soff_d2));
    tg_copy_reg #(.W(4)) u_soff_lane [7:0] (.clk(clk), .rst(rst), .d(soff_d2), .q(soff_d));

    genvar i;
    generate for (i = 0; i < NS; i = i + 1) begin : g_slice
        tg_mac_slice u_slice (.clk(clk), .a(a[i*25 +: 25]), .b(b[i*18 +: 18]), .p(p[i*43 +: 43]));
        if (i < 8) begin : g_pp
            tg_round_sat #(.PW(40), .SMIN(16), .SBITS(4)) u_rs (
                .clk(clk), .p(p[i*43 +: 40]), .s_off(soff_d[i*4 +: 4]), .mode(2'd0),
                .y(pp_y[i*16 +: 16]), .y_copy(unused_y_copy[i*16 +: 16]));
        end
    end endgenerate
endmodule

`default_nettype wire
