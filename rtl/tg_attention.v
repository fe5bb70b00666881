// Attention over a ring-buffer KV cache in block RAM, with ALiBi distance penalties.
//
// K and V caches: D/4 banks of 32 bits side by side, so one slot (d_model bytes
// of K or V) is one address; address = {layer, slot}. The new k and v rows are
// written at the current slot `pos` while the requantiser streams them out, one
// bank word per 4 rows. Slots 0..pos are filled, or all of them once the ring
// has wrapped (ring_full); slot j holds the token at distance (pos - j) mod CTX
// and its score is q.k - (distance << alibi_shift[head]).
//
// Pass 1 (scores): two cached slots per pair of cycles, one head-half per
// cycle, oldest pair first, so the pair holding the current slot (which waits
// for the new k row) comes last. Slice i of the multiplier array gets a = k[p+1][j]*2^17 + (k[p][j]+128)
// and b = q[j] (j = c*D/2 + i), so one DSP48 yields both q[j]*(k[p][j]+128) (low
// 17 bits, signed) and q[j]*k[p+1][j] (the rest, plus the sign borrow of the low
// half). The +128 offset keeps a inside the 25-bit multiplier port (k = -128 in
// the upper half would overflow it otherwise); it costs one subtraction of
// 128 * sum(q) per head score. Two registered adder trees sum the products per
// head; the distance penalty is subtracted at the tree outputs; scores go to
// LUT RAM and a running maximum per head is kept.
//
// Pass 2 (weights): one position per cycle for all heads. The integer softmax
// (tg_softmax) turns each score into e = EXP[min(255, (smax - s) >> shift)] and
// sums e per head; slice i gets a = v[p][2i+1]*2^17 + (v[p][2i]+128), b = e, and
// 64 accumulators collect sum_p e * v (even ones 128 * esum too much, taken off
// when they are normalised).
//
// Normalise: o = sat8(rshift_round(acc * RECIP[m - 128], 8 + n)) with
// n = bitlen(esum), m = esum >> (n - 8); 8 elements per cycle on slices 0..7
// and the array's rounding lanes, straight onto the activation bus.

`default_nettype none

module tg_attention #(
    parameter D          = 64,
    parameter H          = 2,
    parameter RMAX       = 4,
    parameter KVAW       = 8,      // {layer, position} address bits
    parameter PAW        = 7,      // position bits (log2 CTX)
    parameter EXP_INIT   = "rtl/tables/exp.hex",
    parameter RECIP_INIT = "rtl/tables/recip.hex"
) (
    input  wire              clk,
    input  wire              rst,
    input  wire [KVAW-PAW-1:0] layer,
    input  wire [PAW-1:0]    pos,          // ring slot of the current token
    input  wire              ring_full,    // every slot is filled
    input  wire [4:0]        att_shift,
    input  wire [4*H-1:0]    alibi_shift,  // distance penalty shift per head
    // q, k, v rows from the requantiser
    input  wire              rq_valid,
    input  wire [2:0]        rq_dest,
    input  wire [8:0]        rq_row0,
    input  wire [RMAX*16-1:0] rq_y,
    // the sideband of the requantiser's next output (one cycle ahead of rq_*)
    input  wire              rqn_valid,
    input  wire [2:0]        rqn_dest,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [8:0]        rqn_row0,     // bank words: rows / 4
    /* verilator lint_on UNUSEDSIGNAL */
    // start once q is complete (k and v may still be streaming in); pass 2 and
    // the normaliser follow on their own
    input  wire              p1_start,
    output wire              an_done_early, // 2 cycles before the last output group lands
    output wire              an_done,
    output wire              an_we,        // normalised output on the activation bus
    output wire [4:0]        an_group,     // element index / 8
    // multiplier array
    output wire              arr_en,
    output wire [NS*25-1:0]  arr_a,
    output wire [NS*18-1:0]  arr_b,
    output wire [8*4-1:0]    arr_soff,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [NS*43-1:0]  arr_p          // products fit in 34 bits
    /* verilator lint_on UNUSEDSIGNAL */
);
    localparam NS    = D / 2;         // slices
    localparam HD    = D / H;         // head dimension
    localparam H2    = H / 2;         // heads per half (pass 1 cycle)
    localparam LH    = $clog2(HD);     // tree depth to a head score
    localparam KB    = D / 4;         // KV banks
    localparam TW    = 17 + LH;       // q.k width (tree output)
    localparam SW    = (TW > PAW + 16 ? TW : PAW + 16) + 1;  // score width: q.k - (distance << 0..15)
    localparam SAW   = PAW - 1;       // score LUT RAM address bits (pair index)
    localparam KVD   = 1 << KVAW;
    localparam NOUT  = D / 8;
    localparam integer ALAST_I = NOUT - 1;
    localparam [4:0] ALAST = ALAST_I[4:0];
    localparam integer KBW_I = KB;           // bank words per row
    localparam [7:0] KBW = KBW_I[7:0];
    localparam integer WPC_I = RMAX / 4;     // bank words per requantiser output
    localparam [7:0] WPC = WPC_I[7:0];
    localparam DST_Q = 0, DST_K = 1, DST_V = 2;

    genvar i, h, m;
    integer x;

    // ------------------------------------------------------------ q register
    // q is taken from a local copy of the requantiser's output, a cycle late:
    // rq_row0 and rq_y fan out across the core, and the 16 row decoders of q and
    // the per-head sums below were among its worst paths. Pass 1 first reads q
    // several cycles after its last row (q_last -> p1_start -> issue -> banks),
    // and the sums later still, so nothing waits for the copy.
    reg              qv_r;
    reg [8:0]        qrow_r;
    reg [RMAX*8-1:0] qy_r;
    always @(posedge clk) begin
        qv_r   <= !rst && rq_valid && rq_dest == DST_Q;
        qrow_r <= rq_row0;
        for (x = 0; x < RMAX; x = x + 1)
            qy_r[x*8 +: 8] <= rq_y[x*16 +: 8];
    end

    // element j is written by requantiser lane j % RMAX. The row decode is a
    // register per row (q_we), made from the requantiser's look-ahead a cycle
    // before qv_r: decoded from qrow_r it sat in front of the write enables of
    // q's 512 flip-flops, which spread across the die to the multiplier slices.
    localparam NQR = D / RMAX;
    reg           qn_v;                      // = rq_valid && rq_dest == DST_Q
    reg  [8:0]    qn_row;                    // = rq_row0
    reg  [NQR-1:0] q_we;                     // = qv_r && qrow_r == g * RMAX
    integer qg;
    always @(posedge clk) begin
        qn_v   <= !rst && rqn_valid && rqn_dest == DST_Q;
        qn_row <= rqn_row0;
        for (qg = 0; qg < NQR; qg = qg + 1)
            q_we[qg] <= !rst && qn_v && {23'd0, qn_row} == qg * RMAX;
    end
    reg [D*8-1:0] q;
    generate for (i = 0; i < D; i = i + 1) begin : g_q
        always @(posedge clk)
            if (q_we[i / RMAX])
                q[i*8 +: 8] <= qy_r[(i % RMAX)*8 +: 8];
    end endgenerate

    // sum of q per head (offset correction of the even-position scores): the
    // RMAX elements of a row are summed in one cycle, added to the head's sum in
    // the next
    reg        qsv_r;
    reg [8:0]  qsrow_r;
    reg [13:0] qrs_r;
    always @(posedge clk) begin : qrs
        reg [13:0] t;
        t = 14'd0;
        for (x = 0; x < RMAX; x = x + 1)
            t = t + {{6{qy_r[x*8 + 7]}}, qy_r[x*8 +: 8]};
        qrs_r   <= t;
        qsv_r   <= !rst && qv_r;
        qsrow_r <= qrow_r;
    end
    reg [H*14-1:0] qsum;
    integer y;
    always @(posedge clk)
        if (qsv_r)
            for (y = 0; y < H; y = y + 1)
                if ({23'd0, qsrow_r} >> LH == y)
                    qsum[y*14 +: 14] <= (qsrow_r == 0 || (qsrow_r & (HD - 1)) == 0 ? 14'd0 : qsum[y*14 +: 14]) + qrs_r;

    // ---------------------------------------------------------- pass 1 issue
    // Pairs of positions (2pp, 2pp+1), head half c = 0 then 1. K is read on
    // c = 0 only (the BRAM output holds for c = 1), which leaves port B free
    // every other cycle for writing the new k row. The pair holding the current
    // position waits until that row is in the cache.
    reg            p1_run;
    reg [SAW-1:0]  p1_pp;       // pair index
    reg            p1_c;        // head half
    wire [SAW-1:0] npairs_m1 = pos[PAW-1:1];    // last pair: the one holding the current slot
    wire [SAW-1:0] p1_first  = ring_full ? npairs_m1 + 1'b1 : {SAW{1'b0}};
    wire [PAW-1:0] plast     = ring_full ? {PAW{1'b1}} : pos;   // last slot pass 2 reads
    reg            k_ok;        // the new k row is in the cache (see the KV cache below)
    // p1_last = (p1_pp == npairs_m1), a register loaded with p1_pp: the compare
    // sat in the k_ok loop (stall -> port B -> k_pend -> k_ok), nine levels deep
    reg            p1_last;
    wire           p1_stall = p1_run && !p1_c && p1_last && !k_ok;
    wire           p1_iss   = p1_run && !p1_stall;
    wire           p1_rd    = p1_iss && !p1_c;
    always @(posedge clk) begin
        if (rst) p1_run <= 1'b0;
        else if (p1_start) begin
            p1_run <= 1'b1; p1_pp <= p1_first; p1_c <= 1'b0;
            p1_last <= p1_first == npairs_m1;
        end else if (p1_iss) begin
            p1_c <= ~p1_c;
            if (p1_c) begin
                p1_pp <= p1_pp + 1'b1;
                p1_last <= p1_pp + 1'b1 == npairs_m1;
                if (p1_last) p1_run <= 1'b0;
            end
        end
    end
`ifdef TRITGPT_ASSERT
    always @(posedge clk)
        if (!rst && p1_run && p1_last !== (p1_pp == npairs_m1))
            $display("ASSERT tg_attention: p1_last differs from p1_pp == npairs_m1");
`endif
    wire [PAW-1:0] p1_pos0 = {p1_pp, 1'b0};
    wire [PAW-1:0] p1_pos1 = {p1_pp, 1'b1};
    wire           p1_v1   = ring_full || p1_pos1 <= pos;

    // ------------------------------------------------------------ KV cache
    wire           k_we  = rq_valid && rq_dest == DST_K;
    wire           v_we  = rq_valid && rq_dest == DST_V;
    wire [KVAW-1:0] a_cur = {layer, pos};
    wire [KB*32-1:0] ka, kb, va;
    wire [KB*32-1:0] unused_vb;     // V port B only writes

    // rows of the current token seen so far (k, v), counted in bank words
    reg [7:0]      k_cnt, v_cnt;
    reg [KB-1:0]   k_pend;     // k word received, not yet written
    reg [KB*32-1:0] k_word;
    wire           qkv_new = rq_valid && rq_dest == DST_Q;
    wire [7:0]     k_cnt_n = qkv_new ? 8'd0 : k_we ? k_cnt + WPC : k_cnt;
    always @(posedge clk) begin
        if (rst) begin
            k_cnt <= 8'd0; v_cnt <= 8'd0;
        end else begin
            k_cnt <= k_cnt_n;
            if (qkv_new) v_cnt <= 8'd0;
            else if (v_we) v_cnt <= v_cnt + WPC;
        end
    end
    // The new k row is in the cache: k_cnt == KBW && k_pend == 0. It stalls
    // pass 1, which gates the cache's port B, which clears k_pend: as one
    // expression that loop was among the routed design's worst paths. k_ok is a
    // register instead, loaded with the expression over the next state of
    // k_cnt and k_pend (an assertion below checks the two agree).
    wire [KB-1:0]  k_pend_n;
    always @(posedge clk) k_ok <= !rst && k_cnt_n == KBW && k_pend_n == {KB{1'b0}};
    wire v_ok = v_cnt == KBW;

    // pass 2 position counter (declared here: it addresses V)
    reg            p2_run;
    reg [PAW-1:0]  p2_p;
    wire [PAW:0]   p2_sb;      // {valid, position} two cycles after issue
    tg_delay #(.W(PAW + 1), .N(2)) u_p2a (.clk(clk), .rst(rst), .d({p2_run, p2_p}), .q(p2_sb));

    // Bank selects from the requantiser's look-ahead sideband, registered, so
    // rq_row0's decode does not sit in front of 16 x 32 enables or the block
    // RAMs' write enables. (A v word is written as it arrives: registering
    // rq_y once more for it would take 512 flip-flops, each a route-through LUT
    // on the congested xc7a35t.)
    reg  [KB-1:0]    k_take, v_take;
    generate for (i = 0; i < KB; i = i + 1) begin : g_kv
        // rows row0 .. row0+RMAX-1 arrive together; bank i holds rows 4i..4i+3
        wire [6:0] w0n   = rqn_row0[8:2];        // first bank word of the next output
        wire       mine  = {25'd0, w0n} <= i && i < {25'd0, w0n} + RMAX / 4;
        wire [31:0] wd = {rq_y[((4*i + 3) % RMAX)*16 +: 8], rq_y[((4*i + 2) % RMAX)*16 +: 8],
                          rq_y[((4*i + 1) % RMAX)*16 +: 8], rq_y[((4*i) % RMAX)*16 +: 8]};
        wire kwr = k_pend[i] && !p1_rd;
        assign k_pend_n[i] = k_take[i] ? 1'b1 : kwr ? 1'b0 : k_pend[i];
        always @(posedge clk) begin
            if (rst) begin
                k_take[i] <= 1'b0;
                v_take[i] <= 1'b0;
                k_pend[i] <= 1'b0;
            end else begin
                k_take[i] <= rqn_valid && rqn_dest == DST_K && mine;
                v_take[i] <= rqn_valid && rqn_dest == DST_V && mine;
                k_pend[i] <= k_pend_n[i];
            end
            if (k_take[i]) k_word[i*32 +: 32] <= wd;
        end
        tg_ram_tdp #(.W(32), .DEPTH(KVD), .AW(KVAW)) u_k (
            .clk(clk),
            .en_a(p1_rd), .we_a(1'b0), .addr_a({layer, p1_pos0}), .din_a(32'd0), .dout_a(ka[i*32 +: 32]),
            .en_b(p1_rd || kwr), .we_b(kwr),
            .addr_b(kwr ? a_cur : {layer, p1_pos1}), .din_b(k_word[i*32 +: 32]), .dout_b(kb[i*32 +: 32]));
        tg_ram_tdp #(.W(32), .DEPTH(KVD), .AW(KVAW)) u_v (
            .clk(clk),
            .en_a(p2_sb[PAW]), .we_a(1'b0), .addr_a({layer, p2_sb[PAW-1:0]}), .din_a(32'd0), .dout_a(va[i*32 +: 32]),
            .en_b(v_take[i]), .we_b(v_take[i]), .addr_b(a_cur), .din_b(wd), .dout_b(unused_vb[i*32 +: 32]));
`ifdef TRITGPT_ASSERT
        wire [6:0] w0 = rq_row0[8:2];
        wire mine_now = {25'd0, w0} <= i && i < {25'd0, w0} + RMAX / 4;
        always @(posedge clk)
            if (!rst && (k_take[i] !== (k_we && mine_now) || v_take[i] !== (v_we && mine_now)))
                $display("ASSERT tg_attention: bank %0d's look-ahead select differs from rq_row0's", i);
`endif
    end endgenerate

`ifdef TRITGPT_ASSERT
    always @(posedge clk) begin
        if (!rst && k_ok !== (k_cnt == KBW && k_pend == {KB{1'b0}}))
            $display("ASSERT tg_attention: k_ok differs from k_cnt == KBW && k_pend == 0");
    end
`endif

    // pass 1 sideband at the bank outputs (issue + 2): valid, c, second valid, last, pair
    wire [SAW+3:0] p1_s1, p1_s2;
    tg_delay #(.W(SAW + 4), .N(1)) u_p1s1 (.clk(clk), .rst(rst),
        .d({p1_iss, p1_c, p1_v1, p1_iss && p1_c && p1_last, p1_pp}), .q(p1_s1));
    tg_delay #(.W(SAW + 4), .N(1)) u_p1s2 (.clk(clk), .rst(rst), .d(p1_s1), .q(p1_s2));
    wire p1_v2 = p1_s2[SAW+3];
    // p1_v2 and p1_c2 select the operands of every MAC slice: one copy of each per
    // slice (tg_copy_reg), so no single flip-flop drives the whole array.
    wire [NS-1:0] v2_rep, c2_rep;
    generate for (i = 0; i < NS; i = i + 1) begin : g_p1rep
        tg_copy_reg #(.W(2)) u_sel (.clk(clk), .rst(rst), .d(p1_s1[SAW+3:SAW+2]), .q({v2_rep[i], c2_rep[i]}));
    end endgenerate

    // pass 1 finished (scores stored, maximum known) and v in the cache: pass 2
    wire p1_done;
    reg  p1_fin;
    always @(posedge clk) begin
        if (rst || p1_start) p1_fin <= 1'b0;
        else if (p2_start) p1_fin <= 1'b0;
        else if (p1_done) p1_fin <= 1'b1;
    end
    wire p2_start = (p1_fin || p1_done) && v_ok && !p2_run;

    // ------------------------------------------------------ pass 2 issue
    always @(posedge clk) begin
        if (rst) p2_run <= 1'b0;
        else if (p2_start) begin
            p2_run <= 1'b1; p2_p <= {PAW{1'b0}};
        end else if (p2_run) begin
            p2_p <= p2_p + 1'b1;
            if (p2_p == plast) p2_run <= 1'b0;
        end
    end

    // score memories: [parity][head], address = position / 2
    wire [H*SW-1:0] s_rd0, s_rd1;
    wire [H*SW-1:0] tree_s0, tree_s1;   // per head (only the active half's heads valid)
    wire [SAW+3:0]  p1_st;               // pass 1 sideband at the tree outputs
    wire            st_v  = p1_st[SAW+3];
    wire            st_c  = p1_st[SAW+2];
    wire            st_v1 = p1_st[SAW+1];
    wire            st_last = p1_st[SAW];
    wire [SAW-1:0]  st_pp = p1_st[SAW-1:0];
    generate for (h = 0; h < H; h = h + 1) begin : g_smem
        wire mine = st_v && (h / H2 == 1) == st_c;
        tg_lutram #(.W(SW), .DEPTH(1 << SAW), .AW(SAW)) u_s0 (
            .clk(clk), .we(mine), .waddr(st_pp), .wdata(tree_s0[h*SW +: SW]),
            .raddr(p2_p[PAW-1:1]), .rdata(s_rd0[h*SW +: SW]));
        tg_lutram #(.W(SW), .DEPTH(1 << SAW), .AW(SAW)) u_s1 (
            .clk(clk), .we(mine && st_v1), .waddr(st_pp), .wdata(tree_s1[h*SW +: SW]),
            .raddr(p2_p[PAW-1:1]), .rdata(s_rd1[h*SW +: SW]));
    end endgenerate

    // ------------------------------------------------------ softmax (pass 2)
    wire [H*9-1:0] e_w;       // e per head, issue + 4
    wire [H*11-1:0] rcp;      // reciprocal per head
    wire [H*4-1:0]  rsh;      // n - 8 per head
    wire [H*17-1:0] esum_w;   // sum of e per head
    wire            sm_ready;
    tg_softmax #(.H(H), .SW(SW), .EXP_INIT(EXP_INIT), .RECIP_INIT(RECIP_INIT)) u_softmax (
        .clk(clk), .rst(rst),
        .p1_start(p1_start), .s_valid(st_v), .s_v1(st_v1), .s_c(st_c), .s0(tree_s0), .s1(tree_s1),
        .p2_valid(p2_run), .p2_first(p2_run && p2_p == 0), .p2_last(p2_run && p2_p == plast),
        .p2_par(p2_p[0]), .rd0(s_rd0), .rd1(s_rd1), .att_shift(att_shift),
        .e(e_w), .esum_out(esum_w), .recip(rcp), .rshift(rsh), .ready(sm_ready));

    // pass 2 sideband at the array inputs (issue + 4): valid, first, last
    wire [2:0] p2_s4;
    tg_delay #(.W(3), .N(4)) u_p2s4 (.clk(clk), .rst(rst),
        .d({p2_run, p2_run && p2_p == 0, p2_run && p2_p == plast}), .q(p2_s4));

    // ------------------------------------------------- normalise issue
    reg            an_run;
    reg [4:0]      an_c;
    wire           p2_done;
    wire           an_start = p2_done;
    always @(posedge clk) begin
        if (rst) an_run <= 1'b0;
        else if (an_start) begin an_run <= 1'b1; an_c <= 5'd0; end
        else if (an_run) begin
            an_c <= an_c + 5'd1;
            if (an_c == ALAST) an_run <= 1'b0;
        end
    end
    wire [6:0] an_sb;
    tg_delay #(.W(7), .N(5)) u_ansb (.clk(clk), .rst(rst),
        .d({an_run, an_run && an_c == ALAST, an_c}), .q(an_sb));
    assign an_we    = an_sb[6];
    assign an_done  = an_sb[5];
    assign an_group = an_sb[4:0];
    tg_delay #(.W(1), .N(3)) u_ane (.clk(clk), .rst(rst), .d(an_run && an_c == ALAST), .q(an_done_early));

    // ------------------------------------------------------ array operands
    reg [D*24-1:0] acc;
    generate for (i = 0; i < NS; i = i + 1) begin : g_op
        // pass 1: element j = c * NS + i of positions 2pp (bank port A) and 2pp+1 (port B)
        wire [7:0] k0_h0 = ka[i*8 +: 8];
        wire [7:0] k1_h0 = kb[i*8 +: 8];
        wire [7:0] k0_h1 = ka[(NS + i)*8 +: 8];
        wire [7:0] k1_h1 = kb[(NS + i)*8 +: 8];
        wire [7:0] k0 = c2_rep[i] ? k0_h1 : k0_h0;
        wire [7:0] k1 = c2_rep[i] ? k1_h1 : k1_h0;
        wire [7:0] qq = c2_rep[i] ? q[(NS + i)*8 +: 8] : q[i*8 +: 8];
        // pass 2: elements 2i, 2i+1
        wire [7:0] v0 = va[(2*i)*8 +: 8];
        wire [7:0] v1 = va[(2*i+1)*8 +: 8];
        wire [8:0] ee = e_w[((2*i) / HD)*9 +: 9];
        wire [7:0] lo = v2_rep[i] ? k0 : v0;
        wire [7:0] hi = v2_rep[i] ? k1 : v1;
        wire [24:0] pk = {hi, 9'd0, ~lo[7], lo[6:0]};     // hi * 2^17 + (lo + 128)
        if (i < 8) begin : g_an
            // The lane's own copy of the normaliser's counter and run flag, kept
            // apart (keep: yosys merges equal flip-flops): the one counter drove
            // all eight lanes' selects and, placed 36 rows from them, set a
            // routed 100 MHz design's clock.
            reg        an_run_l;
            reg [4:0]  an_c_l;
            (* keep *) always @(posedge clk) begin
                if (rst) an_run_l <= 1'b0;
                else if (an_start) begin an_run_l <= 1'b1; an_c_l <= 5'd0; end
                else if (an_run_l) begin
                    an_c_l <= an_c_l + 5'd1;
                    if (an_c_l == ALAST) an_run_l <= 1'b0;
                end
            end
`ifdef TRITGPT_ASSERT
            always @(posedge clk)
                if (!rst && (an_run_l !== an_run || (an_run && an_c_l !== an_c)))
                    $display("ASSERT tg_attention: a lane's copy of the normaliser counter differs");
`endif
            // normalise: element j = 8 * an_c + i
            /* verilator lint_off UNUSEDSIGNAL */
            wire [7:0]     j  = {an_c_l, 3'd0} + i;
            wire [7:0]     hj = j >> LH;
            /* verilator lint_on UNUSEDSIGNAL */
            wire [3:0]     hh = hj[3:0];
            wire [23:0]    ar = acc[j*24 +: 24];
            // even elements carry 128 * esum from the offset packing
            wire [23:0]    av = (i % 2 == 0) ? ar - {esum_w[hh*17 +: 17], 7'd0} : ar;
            assign arr_a[i*25 +: 25] = an_run_l ? {av[23], av} : pk;
            assign arr_b[i*18 +: 18] = an_run_l ? {7'd0, rcp[hh*11 +: 11]} :
                                       v2_rep[i] ? {{10{qq[7]}}, qq} : {9'd0, ee};
            assign arr_soff[i*4 +: 4] = rsh[hh*4 +: 4];
        end else begin : g_pk
            assign arr_a[i*25 +: 25] = pk;
            assign arr_b[i*18 +: 18] = v2_rep[i] ? {{10{qq[7]}}, qq} : {9'd0, ee};
        end
    end endgenerate
    assign arr_en = p1_v2 || p2_s4[2] || an_run;

    // ------------------------------------------- unpack the two products
    // p = hi_product * 2^17 + lo_product, lo_product signed 17-bit: the upper
    // field is hi_product - 1 when lo_product < 0. That borrow (bit 16) is added
    // back later: as a count per head score (pass 1), as the carry into the
    // accumulator (pass 2), not with an adder per slice.
    reg [NS*17-1:0] lo_r, hi_r;
    reg [NS-1:0]    bw_r;
    generate for (i = 0; i < NS; i = i + 1) begin : g_unpack
        wire [33:0] pp = arr_p[i*43 +: 34];      // both products fit in 34 bits
        always @(posedge clk) begin
            lo_r[i*17 +: 17] <= pp[16:0];
            hi_r[i*17 +: 17] <= pp[33:17];
            bw_r[i]          <= pp[16];
        end
    end endgenerate
    // borrow count per head of the half, delayed to the tree output. With two
    // levels or more in the tree the count takes two cycles too, 8 borrows per
    // partial count, then their sum: as one 32-input count in a cycle it was the
    // routed design's critical path (six LUTs and a carry chain). With three
    // levels or more the borrows are first copied into registers of their own:
    // bw_r sits by its DSP slice, the count gathers 8 slices' borrows, and a
    // routed 100 MHz design's worst path was a 7.4 ns bw_r net followed by the
    // count's LUTs and carry chain. Now that net runs flip-flop to flip-flop.
    localparam NG = (HD + 7) / 8;            // partial counts per head
    localparam BWQ = LH > 2 ? 1 : 0;         // the copy stage
    wire [H2*8-1:0] bw_cnt_d;
    generate for (h = 0; h < H2; h = h + 1) begin : g_bw
        reg [7:0] cnt_r;
        if (LH > 1) begin : g_two
            wire [HD-1:0]  bw_h;             // the head's borrows, copied or not
            reg [NG*4-1:0] part, part_r;     // borrows of bits 8g .. 8g+7 of the head
            reg [7:0]      sum;
            integer b, g;
            if (BWQ) begin : g_q
                reg [HD-1:0] bw_q;
                always @(posedge clk) bw_q <= bw_r[h*HD +: HD];
                assign bw_h = bw_q;
            end else begin : g_nq
                assign bw_h = bw_r[h*HD +: HD];
            end
            always @(*)
                for (g = 0; g < NG; g = g + 1) begin
                    part[g*4 +: 4] = 4'd0;
                    for (b = 8 * g; b < 8 * g + 8 && b < HD; b = b + 1)
                        part[g*4 +: 4] = part[g*4 +: 4] + {3'd0, bw_h[b]};
                end
            always @(posedge clk) part_r <= part;
            always @(*) begin
                sum = 8'd0;
                for (g = 0; g < NG; g = g + 1)
                    sum = sum + {4'd0, part_r[g*4 +: 4]};
            end
            always @(posedge clk) cnt_r <= sum;
            if (LH > 2 + BWQ) begin : g_d
                tg_delay #(.W(8), .N(LH - 2 - BWQ)) u_d (.clk(clk), .rst(rst), .d(cnt_r), .q(bw_cnt_d[h*8 +: 8]));
            end else begin : g_nd
                assign bw_cnt_d[h*8 +: 8] = cnt_r;
            end
        end else begin : g_one
            reg [7:0] cnt;
            integer b;
            always @(*) begin
                cnt = 8'd0;
                for (b = 0; b < HD; b = b + 1)
                    cnt = cnt + {7'd0, bw_r[h*HD + b]};
            end
            always @(posedge clk) cnt_r <= cnt;
            assign bw_cnt_d[h*8 +: 8] = cnt_r;
        end
    end endgenerate

    // ---------------------------------------------- score adder trees
    // level m has NS>>m nodes of 17+m bits; two trees (positions 2pp, 2pp+1)
    function integer toff;
        input integer lv;
        integer t;
        begin
            toff = 0;
            for (t = 1; t < lv; t = t + 1) toff = toff + (NS >> t) * (17 + t);
        end
    endfunction
    localparam TB = toff(LH + 1);
    reg [TB-1:0] t0, t1;
    generate for (m = 1; m <= LH; m = m + 1) begin : g_tl
        localparam NN = NS >> m;
        localparam WW = 17 + m;
        for (i = 0; i < NN; i = i + 1) begin : g_tn
            wire [WW-2:0] a0, b0, a1, b1;
            if (m == 1) begin : g_f
                assign a0 = lo_r[(2*i)*17 +: 17];   assign b0 = lo_r[(2*i+1)*17 +: 17];
                assign a1 = hi_r[(2*i)*17 +: 17];   assign b1 = hi_r[(2*i+1)*17 +: 17];
            end else begin : g_n
                assign a0 = t0[toff(m-1) + (2*i)*(WW-1) +: WW-1];
                assign b0 = t0[toff(m-1) + (2*i+1)*(WW-1) +: WW-1];
                assign a1 = t1[toff(m-1) + (2*i)*(WW-1) +: WW-1];
                assign b1 = t1[toff(m-1) + (2*i+1)*(WW-1) +: WW-1];
            end
            always @(posedge clk) begin
                t0[toff(m) + i*WW +: WW] <= {a0[WW-2], a0} + {b0[WW-2], b0};
                t1[toff(m) + i*WW +: WW] <= {a1[WW-2], a1} + {b1[WW-2], b1};
            end
        end
    end endgenerate
    // sideband from the bank outputs (issue+2) to the tree outputs: 3 array + 1 unpack + LH;
    // its last register stage also registers the distance penalties of the pair
    wire [SAW+3:0] p1_sm;
    tg_delay #(.W(SAW + 4), .N(3 + LH)) u_p1st (.clk(clk), .rst(rst), .d(p1_s2), .q(p1_sm));
    reg  [SAW+3:0] p1_st_r;
    always @(posedge clk) p1_st_r <= rst ? {(SAW+4){1'b0}} : p1_sm;
    assign p1_st = p1_st_r;
    wire [PAW-1:0] dist0 = pos - {p1_sm[SAW-1:0], 1'b0};
    wire [PAW-1:0] dist1 = pos - {p1_sm[SAW-1:0], 1'b1};
    // head hh of the current half is node hh of level LH
    generate for (h = 0; h < H; h = h + 1) begin : g_hs
        reg  [SW-1:0] pen0, pen1;
        always @(posedge clk) begin
            pen0 <= {{(SW-PAW){1'b0}}, dist0} << alibi_shift[h*4 +: 4];
            pen1 <= {{(SW-PAW){1'b0}}, dist1} << alibi_shift[h*4 +: 4];
        end
        wire [TW-1:0] qc = {{(TW-14){qsum[h*14 + 13]}}, qsum[h*14 +: 14]} << 7;
        wire [TW-1:0] s0 = t0[toff(LH) + (h % H2)*TW +: TW] - qc;
        wire [TW-1:0] s1 = t1[toff(LH) + (h % H2)*TW +: TW] + {{(TW-8){1'b0}}, bw_cnt_d[(h % H2)*8 +: 8]};
        assign tree_s0[h*SW +: SW] = {{(SW-TW){s0[TW-1]}}, s0} - pen0;
        assign tree_s1[h*SW +: SW] = {{(SW-TW){s1[TW-1]}}, s1} - pen1;
    end endgenerate
    assign p1_done = st_v && st_last;

    // ------------------------------------------------------ accumulators
    // products of issue t reach lo_r/hi_r at t + 8 (4 to the array, 3 in it, 1 unpack)
    // valid and first drive the enable and clear of every accumulator bit (NS x 48):
    // copies of the pair (tg_copy_reg), so no single flip-flop drives them all
    // (a routed 100T build's worst net was that fan-out)
    wire [2:0] p2_s7;
    wire [1:0] p2_s8;          // valid, last
    tg_delay #(.W(3), .N(3)) u_p2s7 (.clk(clk), .rst(rst), .d(p2_s4), .q(p2_s7));
    tg_delay #(.W(2), .N(1)) u_p2s8 (.clk(clk), .rst(rst), .d({p2_s7[2], p2_s7[0]}), .q(p2_s8));
    // The pair is copied once per accumulator, not per slice: one copy's clear
    // across both 24-bit accumulators was a 6.7 ns net in the routed 50 MHz
    // build's worst path.
    generate for (i = 0; i < NS; i = i + 1) begin : g_acc
        wire lo_v, lo_first, hi_v, hi_first;
        tg_copy_reg #(.W(2)) u_ctl_lo (.clk(clk), .rst(rst), .d(p2_s7[2:1]), .q({lo_v, lo_first}));
        tg_copy_reg #(.W(2)) u_ctl_hi (.clk(clk), .rst(rst), .d(p2_s7[2:1]), .q({hi_v, hi_first}));
        always @(posedge clk) begin
            if (lo_v)
                acc[(2*i)*24 +: 24]   <= (lo_first ? 24'd0 : acc[(2*i)*24 +: 24])   + {{7{lo_r[i*17 + 16]}}, lo_r[i*17 +: 17]};
            if (hi_v)
                acc[(2*i+1)*24 +: 24] <= (hi_first ? 24'd0 : acc[(2*i+1)*24 +: 24]) + {{7{hi_r[i*17 + 16]}}, hi_r[i*17 +: 17]}
                                         + {23'd0, bw_r[i]};
        end
    end endgenerate
    reg p2_fin;
    always @(posedge clk) begin
        if (rst) p2_fin <= 1'b0;
        else if (p2_start) p2_fin <= 1'b0;
        else if (p2_s8[1] && p2_s8[0]) p2_fin <= 1'b1;
    end
    reg p2_armed;
    always @(posedge clk) begin
        if (rst) p2_armed <= 1'b0;
        else if (p2_start) p2_armed <= 1'b1;
        else if (p2_done) p2_armed <= 1'b0;
    end
    assign p2_done = p2_armed && p2_fin && sm_ready;

`ifdef TRITGPT_ASSERT
    always @(posedge clk) begin
        if (p1_v2 && p2_s4[2]) $display("ASSERT tg_attention: pass 1 and pass 2 overlap");
    end
    integer qa;
    always @(posedge clk)
        if (!rst)
            for (qa = 0; qa < NQR; qa = qa + 1)
                if (q_we[qa] !== (qv_r && {23'd0, qrow_r} == qa * RMAX))
                    $display("ASSERT tg_attention: q_we differs from the decode of qv_r and qrow_r");
`endif
endmodule

`default_nettype wire
