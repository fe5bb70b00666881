`default_nettype none

// Integer softmax of one attention row, the model's softmax_weights and
// normalise_attention: running score maximum (pass 1), EXP table lookup and
// per-head sum (pass 2), then n = bitlen(esum), m = esum >> (n - 8) and the
// RECIP table for the normaliser. e is valid four cycles after its position
// is issued; recip/rshift are valid (ready) eight cycles after the last one.
module tg_softmax #(
    parameter H          = 2,
    parameter SW         = 22,
    parameter EXP_INIT   = "rtl/tables/exp.hex",
    parameter RECIP_INIT = "rtl/tables/recip.hex"
) (
    input  wire             clk,
    input  wire             rst,
    // pass 1: scores of positions 2pp (s0) and 2pp+1 (s1, if s_v1) for the heads of half s_c
    input  wire             p1_start,
    input  wire             s_valid,
    input  wire             s_v1,
    input  wire             s_c,
    input  wire [H*SW-1:0]  s0,
    input  wire [H*SW-1:0]  s1,
    // pass 2: scores read back (rd0 = even position, rd1 = odd), one position per cycle
    input  wire             p2_valid,
    input  wire             p2_first,
    input  wire             p2_last,
    input  wire             p2_par,
    input  wire [H*SW-1:0]  rd0,
    input  wire [H*SW-1:0]  rd1,
    input  wire [4:0]       att_shift,
    output wire [H*9-1:0]   e,
    output wire [H*17-1:0]  esum_out,
    output wire [H*11-1:0]  recip,
    output wire [H*4-1:0]   rshift,       // n - 8: normaliser shift is 16 + rshift
    output reg              ready
);
    localparam H2 = H / 2;
    genvar h;
    integer y, y2, y3, y4, y5;

    // ---------------------------------------------------- running maximum
    // The scores arrive straight from the attention's adder tree; registering them first
    // keeps that tree and the two comparisons below out of one cycle (it was the routed
    // critical path). It costs no cycle: the maximum is first read two cycles after the
    // last score (pass 2 starts with it, its first score is registered in s_r, then as a difference in diff_r),
    // and it is now final one cycle after it.
    reg                 sv_r, sv1_r, sc_r;
    reg  [H*SW-1:0]     s0_r, s1_r;
    always @(posedge clk) begin
        sv_r <= !rst && !p1_start && s_valid;
        sv1_r <= s_v1; sc_r <= s_c; s0_r <= s0; s1_r <= s1;
    end
    reg signed [SW-1:0] smax [0:H-1];
    reg [H-1:0]         have;
    always @(posedge clk) begin
        if (rst || p1_start) have <= {H{1'b0}};
        else if (sv_r)
            for (y = 0; y < H; y = y + 1)
                if ((y / H2 == 1) == sc_r) begin : upd
                    // max(a, b, smax) with the three comparisons side by side, not
                    // max(max(a, b), smax) with one after the other
                    reg signed [SW-1:0] a, b;
                    reg                 b_a, a_m, b_m;
                    a   = s0_r[y*SW +: SW];
                    b   = s1_r[y*SW +: SW];
                    b_a = sv1_r && b > a;
                    a_m = !have[y] || a > smax[y];
                    b_m = !have[y] || b > smax[y];
                    if (b_a ? b_m : a_m) smax[y] <= b_a ? b : a;
                    have[y] <= 1'b1;
                end
    end

    // -------------------------------------- e = EXP[min(255, (smax - s) >> shift)]
    // att_shift is the layer's constant from the FSM's weight-word mux; a local copy
    // keeps that mux and the layer index out of the subtract-shift-saturate cycle
    // below (it holds for the whole layer, so the copy is never stale when used).
    // The saturation test (diff >> shift) > 255 is done on diff itself, beside the
    // shift: it holds when any bit at 8 + shift or above is set (satm_r marks them),
    // so it no longer waits for the shifter.
    // The difference is registered and the shift and saturation that follow it go
    // straight into the EXP ROMs' address registers: subtract, shift and saturate
    // in one cycle were 7.5 levels of logic, and the split costs no cycle.
    reg  [4:0]      shift_r;
    reg  [SW:0]     satm_r;
    reg  [H*SW-1:0] s_r;
    reg  [H*(SW+1)-1:0] diff_r;
    reg  [H*8-1:0]  d_n;
    always @(posedge clk) begin
        shift_r <= att_shift;
        satm_r  <= {(SW+1){1'b1}} << ({1'b0, att_shift} + 6'd8);
        s_r <= p2_par ? rd1 : rd0;
        for (y2 = 0; y2 < H; y2 = y2 + 1)
            diff_r[y2*(SW+1) +: SW+1] <= {smax[y2][SW-1], smax[y2]} -
                                         {s_r[y2*SW + SW - 1], s_r[y2*SW +: SW]};
    end
    integer yd;
    always @(*)
        for (yd = 0; yd < H; yd = yd + 1) begin : dd
            reg [SW:0] diff;
            /* verilator lint_off UNUSEDSIGNAL */
            reg [SW:0] sh;                       // its low 8 bits, or saturated
            /* verilator lint_on UNUSEDSIGNAL */
            diff = diff_r[yd*(SW+1) +: SW+1];
            sh   = diff >> shift_r;
            d_n[yd*8 +: 8] = |(diff & satm_r) ? 8'd255 : sh[7:0];
        end
    wire [H*8-1:0] e8;
    generate for (h = 0; h < H; h = h + 2) begin : g_exp
        tg_rom_dp #(.W(8), .DEPTH(256), .AW(8), .INIT(EXP_INIT)) u_exp (
            .clk(clk), .addr_a(d_n[h*8 +: 8]), .dout_a(e8[h*8 +: 8]),
            .addr_b(d_n[(h+1)*8 +: 8]), .dout_b(e8[(h+1)*8 +: 8]));
    end endgenerate
    generate for (h = 0; h < H; h = h + 1) begin : g_e
        assign e[h*9 +: 9] = {1'b0, e8[h*8 +: 8]};
    end endgenerate

    // ------------------------------------------------------------ esum
    wire [2:0] sb4;   // valid, first, last at the EXP outputs
    tg_delay #(.W(3), .N(4)) u_sb4 (.clk(clk), .rst(rst), .d({p2_valid, p2_first, p2_last}), .q(sb4));
    reg [16:0] esum [0:H-1];
    reg        fin1;
    always @(posedge clk) begin
        if (rst) fin1 <= 1'b0;
        else     fin1 <= sb4[2] && sb4[0];
        if (sb4[2])
            for (y3 = 0; y3 < H; y3 = y3 + 1)
                esum[y3] <= (sb4[1] ? 17'd0 : esum[y3]) + {9'd0, e8[y3*8 +: 8]};
    end

    // n = bitlen(esum) (>= 8), m = esum >> (n - 8), recip = RECIP[m - 128]
    reg [H*7-1:0] ridx;
    reg [H*4-1:0] nsh;
    reg           fin2;
    always @(posedge clk) begin
        if (rst) fin2 <= 1'b0;
        else     fin2 <= fin1;
        for (y4 = 0; y4 < H; y4 = y4 + 1) begin : nm
            reg [3:0] sh;            // n - 8, n = bitlen(esum) >= 8
            /* verilator lint_off UNUSEDSIGNAL */
            reg [16:0] mm;           // m = esum >> (n - 8), 128..255
            /* verilator lint_on UNUSEDSIGNAL */
            integer z;
            sh = 4'd0;
            for (z = 8; z < 17; z = z + 1)
                if (esum[y4][z]) sh = z[3:0] - 4'd7;
            mm = esum[y4] >> sh;
            ridx[y4*7 +: 7] <= mm[6:0];
            nsh[y4*4 +: 4]  <= sh;
        end
    end
    wire [H*16-1:0] rc;
    generate for (h = 0; h < H; h = h + 2) begin : g_rcp
        tg_rom_dp #(.W(16), .DEPTH(128), .AW(7), .INIT(RECIP_INIT)) u_recip (
            .clk(clk), .addr_a(ridx[h*7 +: 7]), .dout_a(rc[h*16 +: 16]),
            .addr_b(ridx[(h+1)*7 +: 7]), .dout_b(rc[(h+1)*16 +: 16]));
    end endgenerate
    reg fin3, fin4;
    reg [H*11-1:0] recip_r;
    reg [H*4-1:0]  rshift_r;
    always @(posedge clk) begin
        if (rst) begin
            fin3 <= 1'b0; fin4 <= 1'b0; ready <= 1'b0;
        end else begin
            fin3 <= fin2;
            fin4 <= fin3;
            if (p2_valid && p2_first) ready <= 1'b0;
            else if (fin4) ready <= 1'b1;
        end
        if (fin2) rshift_r <= nsh;
        if (fin4)
            for (y5 = 0; y5 < H; y5 = y5 + 1)
                recip_r[y5*11 +: 11] <= rc[y5*16 +: 11];
    end
    // esum_out is a copy of esum, a cycle behind: the normaliser reads it beside
    // the multiplier array, and as esum itself it pulled the accumulator (and
    // the EXP ROM feeding it) away from the ROM's other loads (an 8.9 ns net at
    // 100 MHz). It is read only once ready is set, three cycles after esum's
    // last add (asserted).
    genvar g2;
    generate for (g2 = 0; g2 < H; g2 = g2 + 1) begin : g_es
        reg [16:0] esum_c;
        always @(posedge clk) esum_c <= esum[g2];
        assign esum_out[g2*17 +: 17] = esum_c;
`ifdef TRITGPT_ASSERT
        always @(posedge clk)
            if (!rst && ready && esum_c !== esum[g2])
                $display("ASSERT tg_softmax: esum_out differs from esum while ready");
`endif
    end endgenerate
    assign recip  = recip_r;
    assign rshift = rshift_r;
endmodule

`default_nettype wire
