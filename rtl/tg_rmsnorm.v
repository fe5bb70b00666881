// Integer RMSNorm, the model's rmsnorm_int:
//   ss = sum x^2, ms = max(ss >> log2 d, 1), k = max(0, (bitlen(ms) - 7) / 2),
//   m = ms >> 2k, r = RSQRT[m], h = sat8(rshift_round(x * g * r, 17 + k)).
//
// Statistics are gathered while the vector streams in (embedding or residual
// add, up to 8 elements per cycle, element e in slot e % 8): squares on array
// slices 0..7, x*g on slices 8..15 (gains read from block RAM in step with the
// stream), ss accumulated through a registered 8-input adder tree, x*g parked
// in LUT RAM. When the last sum is in ss (ss_done), r and k follow in two cycles.
// The output pass multiplies 8 x*g values by r per cycle on slices 0..7 and
// rounds them on the array's rounding lanes, straight onto the
// activation bus of the matrix-vector unit.

`default_nettype none

module tg_rmsnorm #(
    parameter D          = 64,
    parameter GW          = 3,      // log2(D / 8): element group index bits
    parameter GDEPTH     = 128,
    parameter GAW        = 7,
    parameter GINIT      = "",
    parameter RSQRT_INIT = "rtl/tables/rsqrt.hex"
) (
    input  wire              clk,
    input  wire              rst,
    // gains write port (core idle only)
    input  wire              wr_en,
    input  wire [GAW-1:0]    wr_addr,
    input  wire [31:0]       wr_data,
    // vector stream
    input  wire              in_valid,
    input  wire              in_valid_next, // in_valid's next value, a cycle ahead
    input  wire              in_first,
    input  wire              in_last,
    input  wire [GW-1:0]     in_grp,       // element index / 8
    input  wire [7:0]        in_mask,
    input  wire [8*16-1:0]   in_x,
    input  wire [4:0]        in_gsel,      // gain vector: 2*layer (g1), 2*layer+1 (g2), 2*L (gf)
    output reg               ready,        // statistics of the last vector complete
    // output pass
    input  wire              arm,          // run the output pass for the next vector
    output wire              out_we,       // onto the activation bus
    output wire [4:0]        out_group,    // element index / 8
    output wire              out_done,     // last group on the bus
    output wire              out_done_early, // two cycles before out_done
    // multiplier array, slices 0..15
    output wire              arr_en,
    output wire              arr_en_next,  // arr_en's next value, a cycle ahead
    output wire [16*25-1:0]  arr_a,
    output wire [16*18-1:0]  arr_b,
    output wire [8*4-1:0]    arr_soff,
    input  wire [16*43-1:0]  arr_p
);
    localparam LOG2D = $clog2(D);
    localparam NOUT  = D / 8;
    localparam integer OLAST_I = NOUT - 1;
    localparam [4:0] OLAST = OLAST_I[4:0];
    localparam XAW   = GW;                   // x*g LUT RAM address bits (D / 8 deep)

    // ----------------------------------------------------------- gain reads
    reg  [4:0]  gsel;
    always @(posedge clk) if (in_valid && in_first) gsel <= in_gsel;
    wire [4:0]  gsel_now = in_first ? in_gsel : gsel;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [15:0]    gw16  = ({11'd0, gsel_now} << (LOG2D - 2)) + ({{(15-GW){1'b0}}, in_grp, 1'b0});
    /* verilator lint_on UNUSEDSIGNAL */
    wire [GAW-1:0] gword = gw16[GAW-1:0];
    wire [31:0] g_lo, g_hi;
    tg_ram_tdp #(.W(32), .DEPTH(GDEPTH), .AW(GAW), .INIT(GINIT)) u_gains (
        .clk(clk),
        .en_a(in_valid || wr_en), .we_a(wr_en), .addr_a(wr_en ? wr_addr : gword), .din_a(wr_data), .dout_a(g_lo),
        .en_b(in_valid), .we_b(1'b0), .addr_b(gword + 1'b1), .din_b(32'd0), .dout_b(g_hi));

    // x and sideband two cycles later, aligned with the gains
    wire [8*16-1:0] x_d2;
    wire [7:0]      mask_d2;
    wire [GW-1:0]   grp_d2;
    wire            v_d2;
    tg_delay #(.W(8*16 + 8 + GW + 1), .N(2)) u_xd (.clk(clk), .rst(rst),
        .d({in_x, in_mask, in_grp, in_valid}), .q({x_d2, mask_d2, grp_d2, v_d2}));
    wire [63:0] g8 = {g_hi, g_lo};

    // --------------------------------------------------------- output pass
    reg            o_run;
    reg [4:0]      o_c;
    reg            armed;
    // The pass may start in the cycle that r and k are written (st2): they are
    // first read a cycle after out_start. Waiting for `ready` cost a cycle per
    // normalisation.
    reg            st2;
    wire           out_start = armed && (ready || st2);
    always @(posedge clk) begin
        if (rst) armed <= 1'b0;
        else if (arm) armed <= 1'b1;
        else if (out_start) armed <= 1'b0;
    end
    // o_more = o_run && o_c != OLAST, kept as a register: o_run_n feeds the
    // core's 17 copies of the array select (arr_en_next), and the compare in
    // front of them was one level too many at 100 MHz.
    reg            o_more;
    wire           o_run_n = !rst && (out_start || o_more);
    wire [4:0]     o_c_n   = out_start ? 5'd0 : o_run ? o_c + 5'd1 : o_c;
    always @(posedge clk) begin
        o_run  <= o_run_n;
        o_c    <= o_c_n;
        o_more <= o_run_n && o_c_n != OLAST;
    end
    wire [6:0] o_sb;
    tg_delay #(.W(7), .N(5)) u_osb (.clk(clk), .rst(rst),
        .d({o_run, o_run && o_c == OLAST, o_c}), .q(o_sb));
    assign out_we    = o_sb[6];
    assign out_done  = o_sb[5];
    assign out_group = o_sb[4:0];
    wire o_e;
    tg_delay #(.W(1), .N(3)) u_oe (.clk(clk), .rst(rst), .d(o_run && o_c == OLAST), .q(o_e));
    assign out_done_early = o_e;

    // r, k of the current vector
    reg [16:0] r;
    reg [3:0]  k;

    // x*g buffer: element e in bank e % 8 (its slot), address e / 8
    wire [8*24-1:0] xg_rd;
    wire [7:0]      xg_mask;
    wire [GW-1:0]   xg_grp;
    wire            xg_v;
    tg_delay #(.W(8 + GW + 1), .N(3)) u_xgd (.clk(clk), .rst(rst),
        .d({mask_d2, grp_d2, v_d2}), .q({xg_mask, xg_grp, xg_v}));

    genvar s;
    generate for (s = 0; s < 8; s = s + 1) begin : g_xg
        tg_lutram #(.W(24), .DEPTH(1 << XAW), .AW(XAW)) u_xg (
            .clk(clk), .we(xg_v && xg_mask[s]), .waddr(xg_grp),
            .wdata(arr_p[(8 + s)*43 +: 24]),
            .raddr(o_c[XAW-1:0]), .rdata(xg_rd[s*24 +: 24]));
    end endgenerate

    // ----------------------------------------------------- array operands
    // slices 0..7: squares (statistics) or x*g * r (output); 8..15: x * g
    generate for (s = 0; s < 16; s = s + 1) begin : g_arr
        if (s < 8) begin : g_o
            wire [15:0] xs  = in_x[s*16 +: 16];
            wire [23:0] xgs = xg_rd[s*24 +: 24];
            assign arr_a[s*25 +: 25] = o_run ? {xgs[23], xgs} : {{9{xs[15]}}, xs};
            assign arr_b[s*18 +: 18] = o_run ? {1'b0, r} : {{2{xs[15]}}, xs};
            assign arr_soff[s*4 +: 4] = k + 4'd1;
        end else begin : g_g
            wire [15:0] xs = x_d2[(s % 8)*16 +: 16];
            wire [7:0]  gs = g8[(s % 8)*8 +: 8];
            assign arr_a[s*25 +: 25] = {{9{xs[15]}}, xs};
            assign arr_b[s*18 +: 18] = {{10{gs[7]}}, gs};
        end
    end endgenerate
    assign arr_en = o_run || in_valid || v_d2;
    // The core registers its array select from this, one copy per slice: arr_en
    // itself comes from the residual's output register through an OR, and as the
    // select of 16 x 43 operand muxes it was the routed design's critical path.
    reg v_d1;                                     // u_xd's first stage
    always @(posedge clk) v_d1 <= !rst && in_valid;
    assign arr_en_next = !rst && (o_run_n || in_valid_next || v_d1);

    // ------------------------------------------------- sum of squares
    // squares of the slots (valid three cycles after the input), masked into a
    // register each, then an 8 -> 1 tree of registered adds into ss. The mask in
    // front of the first adds' carry chains, and the three-input add into ss,
    // were the 100 MHz placements' most frequent failing group: one cycle each,
    // two per normalisation.
    wire [7:0]  sq_mask;
    wire        sq_v, sq_first, sq_last;
    tg_delay #(.W(11), .N(3)) u_sqd (.clk(clk), .rst(rst),
        .d({in_mask & {8{in_valid}}, in_valid, in_first, in_last}), .q({sq_mask, sq_v, sq_first, sq_last}));
    reg [30:0] sq [0:7];
    reg [31:0] l1 [0:3];
    reg [32:0] l2 [0:1];
    reg [33:0] l3;
    reg [35:0] ss;
    integer i;
    always @(posedge clk) begin
        for (i = 0; i < 8; i = i + 1)
            sq[i] <= sq_mask[i] ? arr_p[i*43 +: 31] : 31'd0;
        for (i = 0; i < 4; i = i + 1)
            l1[i] <= {1'b0, sq[2*i]} + {1'b0, sq[2*i+1]};
        for (i = 0; i < 2; i = i + 1)
            l2[i] <= {1'b0, l1[2*i]} + {1'b0, l1[2*i+1]};
        l3 <= {1'b0, l2[0]} + {1'b0, l2[1]};
    end
    // ss is cleared in the cycle before a vector's first sum arrives (ss_clr),
    // not masked in the add: with the mask each bit's carry-chain input had seven
    // inputs, two LUT levels in front of the 36-bit chain.
    wire [1:0] ac_sb;                  // valid, last: while l3 holds the sum
    tg_delay #(.W(2), .N(4)) u_acd (.clk(clk), .rst(rst), .d({sq_v, sq_last}), .q(ac_sb));
    wire       ac_first;               // two cycles before ac_sb
    tg_delay #(.W(1), .N(2)) u_acf (.clk(clk), .rst(rst), .d(sq_v && sq_first), .q(ac_first));
    reg ss_done, ss_clr;
    always @(posedge clk) begin
        if (rst) begin
            ss_done <= 1'b0;
            ss_clr  <= 1'b0;
        end else begin
            ss_done <= ac_sb[1] && ac_sb[0];
            ss_clr  <= ac_first;
            if (ss_clr)        ss <= 36'd0;
            else if (ac_sb[1]) ss <= ss + {2'b00, l3};
        end
    end

    // ----------------------------------------- ms, k, m, r = RSQRT[m]
    // k and m = ms >> 2k as a one-hot select: k (1..14) is the one whose bit pair
    // 2k+7..2k+6 of ms holds its top set bit; k = 0 when no bit above 7 is set
    // (then ms = max(ms0, 1)). Written as bitlen, shift amount and barrel shift,
    // this was twelve levels of logic in one cycle; as one select, nine. It is two
    // halves now: the one-hot k is registered with ms (at ss_done), and the select
    // it drives goes straight into the ROM's address register, so r and k come
    // no later than before.
    localparam KMAX = 14;
    wire [35:0] ms0 = ss >> LOG2D;
    reg  [KMAX:0] hot_next;
    integer q;
    always @(*) begin
        hot_next[0] = ms0[35:8] == 28'd0;
        for (q = 1; q <= KMAX; q = q + 1)
            hot_next[q] = ms0[2*q+6 +: 2] != 2'b00 && (ms0 >> (2*q + 8)) == 36'd0;
    end
    reg  [KMAX:0] hot;
    reg  [35:0]   ms_r;
    reg  [7:0]    m0_r;                   // m when k = 0: max(ms0, 1)
    reg  [7:0]    msel;
    reg  [3:0]    ksel;
    always @(*) begin
        msel = hot[0] ? m0_r : 8'd0;
        ksel = 4'd0;
        for (q = 1; q <= KMAX; q = q + 1)
            if (hot[q]) begin
                msel = msel | ms_r[2*q +: 8];
                ksel = ksel | q[3:0];
            end
    end
    reg  [3:0]  k1;
    reg         st1;
    wire [15:0] rsq;
    always @(posedge clk) begin
        if (rst) begin
            st1 <= 1'b0; st2 <= 1'b0; ready <= 1'b0;
        end else begin
            st1 <= ss_done;
            st2 <= st1;
            if ((in_valid && in_first) || arm) ready <= 1'b0;
            else if (st2) ready <= 1'b1;
        end
        if (ss_done) begin
            hot <= hot_next;
            ms_r <= ms0;
            m0_r <= ms0[7:0] == 8'd0 ? 8'd1 : ms0[7:0];
        end
        if (st1)
            k1 <= ksel;
        if (st2) begin
            r <= {1'b0, rsq};
            k <= k1;
        end
    end
    // the ROM output goes straight into r: no second output register
    tg_rom_sp #(.W(16), .DEPTH(256), .AW(8), .INIT(RSQRT_INIT)) u_rsqrt (
        .clk(clk), .addr(msel), .dout(rsq));
`ifdef TRITGPT_ASSERT
    // the select against the model's definition: bitlen, (bitlen - 7) / 2, shift
    wire [35:0] ms = ms_r == 36'd0 ? 36'd1 : ms_r;
    reg  [5:0]  bl;
    integer a;
    always @(*) begin
        bl = 6'd0;
        for (a = 0; a < 36; a = a + 1)
            if (ms[a]) bl = a[5:0] + 6'd1;
    end
    wire [5:0]  kk  = bl > 6'd8 ? (bl - 6'd7) >> 1 : 6'd0;
    wire [35:0] msk = ms >> {kk[4:0], 1'b0};
    always @(posedge clk)
        if (!rst && st1 && (msel !== msk[7:0] || {2'b00, ksel} !== kk))
            $display("ASSERT tg_rmsnorm: the one-hot k / m select differs from bitlen and shift");
    always @(posedge clk)
        if (!rst && o_more !== (o_run && o_c != OLAST))
            $display("ASSERT tg_rmsnorm: o_more differs from o_run && o_c != OLAST");
    always @(posedge clk)
        if (!rst && ss_clr && ac_sb[1])
            $display("ASSERT tg_rmsnorm: a vector's first sums arrive while the last one's are still added");
    always @(posedge clk)
        if (!rst && st2 && armed && (arm || (in_valid && in_first)))
            $display("ASSERT tg_rmsnorm: the output pass starts with r and k while a new vector begins");
`endif
endmodule

`default_nettype wire
