// Ternary matrix-vector unit.
//
// 256 lanes read one 512-bit weight word per cycle (16 banks of 32 bits, lane j
// = bits 2(j%16)+1:2(j%16) of bank j/16; codes 01 = +1, 10 = -1, 00 = 0). A
// fully registered binary adder tree sums the lanes. A matrix with IN inputs
// packs 256/IN rows per word (lane j uses input j % IN), so the row sums are the
// tree nodes of level log2(IN): 256/D_MODEL rows per cycle for the d_model-input
// matrices, 256/D_FF for W2.
//
// Each lane is one mux choosing x, ~x or 0, so a lane register holds x alone:
// ~x = -x - 1, and the missing 1 (the lane's "pending" bit, code == -1) is
// added later as the carry-in of a tree adder, which costs no logic. Every
// adder takes its right child's pending bit as carry-in and passes its left
// child's up, one cycle later. The first lane of each group of D_MODEL lanes
// holds the exact -x (computed once per element by the producer of the
// activation) and so has no pending bit; then every subtree that contains such
// a lane has none either, and each other subtree has exactly one. The row sums
// (level log2(D_MODEL) or above) are therefore exact. This halves the lane
// registers and the bus wiring to them, against a few hundred pending-bit
// flip-flops.
//
// Activation lane registers are loaded from a 16-slot bus register (slot
// j % 16), so every bus bit drives 16 lane registers. Slot values come from the
// norm / attention rounding lanes (8 per cycle, two cycles per group of 16), or
// from the FFN activation buffer: W1's
// ReLU outputs arrive while W1 is still streaming and would overwrite its
// inputs, so they are parked in LUT RAM and copied into the lanes, 16 per
// cycle, as soon as W1's last word has passed the lane stage.
//
// Pipeline (cycle of the weight address = t):
//   t+1 BRAM output, t+2 fabric register, t+3 level 1 (lane muxes + first
//   adders), t+2+m level m. Row sums appear at t+2+log2(IN), their sideband one
//   cycle earlier.

`default_nettype none

module tg_matvec #(
    parameter D           = 64,
    parameter DFF         = 256,
    parameter WDEPTH      = 512,
    parameter WAW         = 9,
    parameter TW          = 4,                 // tag width (sideband)
    parameter WEIGHTS_DIR = "weights/default/"
) (
    input  wire                   clk,
    input  wire                   rst,
    // weight write port (core idle only)
    input  wire                   wr_en,
    input  wire [3:0]             wr_bank,
    input  wire [WAW-1:0]         wr_addr,
    input  wire [31:0]            wr_data,
    // activation bus: 16 slots of (x, -x)
    input  wire                   act_we,        // 8 slots: elements 16 * group + 8 * hi + (0..7)
    input  wire                   act_hi,        // high half; the group goes to the lanes with it
    input  wire                   act_ff,        // 0: vector of D inputs, 1: D_FF inputs
    input  wire [3:0]             act_group,     // element index / 16
    input  wire [8*8-1:0]         act_x,
    input  wire [8:0]             act_nx0,       // -x of slot 0 (the exact lanes, see above)
    // FFN activation buffer (W1 ReLU outputs, RMAX per cycle) and its copy
    /* verilator lint_off UNUSEDSIGNAL */      // fb_we, fb_row0[3:0]: the enables' assertion
    input  wire                   fb_we,
    input  wire [7:0]             fb_row0,       // first element of the RMAX written
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire                   fb_we_next,    // fb_we and fb_row0 a cycle ahead (the
    input  wire [7:0]             fb_row0_next,  // requantiser's look-ahead)
    input  wire [RMAX*8-1:0]      fb_x,          // values 0..127
    input  wire                   fb_copy,       // pulse: copy the buffer into the lanes
    output wire                   fb_copy_done,  // pulse: last group copied
    // command
    input  wire                   cmd_valid,
    input  wire [WAW-1:0]         cmd_base,
    input  wire [WAW:0]           cmd_words,
    input  wire                   cmd_ff,
    input  wire [TW-1:0]          cmd_tag,
    output wire                   idle,          // no word in flight
    output wire                   lanes_free,    // no word before the lane stage
    // row sums; the sideband (valid, tag, ff, row0, last) leads out_acc by one cycle
    output wire                   out_valid,
    output wire [TW-1:0]          out_tag,
    output wire                   out_ff,
    output wire [8:0]             out_row0,      // row index of out_acc lane 0 within the command
    output wire                   out_last,
    output wire [RMAX*17-1:0]     out_acc
);
    localparam LANES = 256;
    localparam RMAX  = LANES / D;
    localparam RFF   = LANES / DFF;
    localparam LD    = $clog2(D);
    localparam LF    = $clog2(DFF);
    localparam NFG   = DFF / 16;                // FFN buffer groups of 16


    // level m of the tree holds LANES>>m nodes of 9+m bits, packed in one vector
    function integer loff;
        input integer m;
        integer i;
        begin
            loff = 0;
            for (i = 1; i < m; i = i + 1) loff = loff + (LANES >> i) * (9 + i);
        end
    endfunction
    localparam TREE_BITS = loff(9);
    // pending bits: level m (0 = lanes) at poff(m), LANES >> m of them
    function integer poff;
        input integer m;
        integer i;
        begin
            poff = 0;
            for (i = 0; i < m; i = i + 1) poff = poff + (LANES >> i);
        end
    endfunction

    // ---------------------------------------------------------------- stream
    reg             run;
    reg [WAW-1:0]   rd_addr;
    reg [WAW:0]     left;
    reg [8:0]       word;
    reg [TW-1:0]    tag;
    reg             ff;
    wire            run_n = run ? left != 0 : cmd_valid;
    always @(posedge clk) begin
        if (rst) run <= 1'b0;
        else     run <= run_n;
        if (cmd_valid && !run) begin
            rd_addr <= cmd_base;
            left    <= cmd_words - 1'b1;
            word    <= 9'd0;
            tag     <= cmd_tag;
            ff      <= cmd_ff;
        end else if (run) begin
            rd_addr <= rd_addr + 1'b1;
            left    <= left - 1'b1;
            word    <= word + 1'b1;
        end
    end

    wire [31:0] bank_q [0:15];
    // The write port is registered beside the banks, its bank select decoded:
    // the core's write decode (idle, memory id, bank) in front of the 16 block
    // RAMs' address and enable pins was a deep path. The write is registered
    // twice as it arrives (wr_*_p, wr_*_q), then decoded into the bank selects:
    // at 100 MHz both the core's decode into the first register and that
    // register's decode into the selects crossed the die. A write lands three
    // cycles later, still long before the core, started by another frame,
    // streams a matrix.
    reg            wr_en_p, wr_en_q;
    reg  [3:0]     wr_bank_p, wr_bank_q;
    reg  [WAW-1:0] wr_addr_p, wr_addr_q, wr_addr_r;
    reg  [31:0]    wr_data_p, wr_data_q, wr_data_r;
    reg  [15:0]    wsel_r;
    always @(posedge clk) begin
        wr_en_p   <= !rst && wr_en;
        wr_bank_p <= wr_bank;
        wr_addr_p <= wr_addr;
        wr_data_p <= wr_data;
        wr_en_q   <= !rst && wr_en_p;
        wr_bank_q <= wr_bank_p;
        wr_addr_q <= wr_addr_p;
        wr_data_q <= wr_data_p;
        wsel_r    <= rst ? 16'd0 : {15'd0, wr_en_q} << wr_bank_q;
        wr_addr_r <= wr_addr_q;
        wr_data_r <= wr_data_q;
    end

    genvar b;
    generate for (b = 0; b < 16; b = b + 1) begin : g_bank
        localparam integer T = 48 + b / 10;
        localparam integer U = 48 + b % 10;
        localparam [15:0] NUM = {T[7:0], U[7:0]};
        wire wsel = wsel_r[b];
        tg_ram_sp #(.W(32), .DEPTH(WDEPTH), .AW(WAW),
                    .INIT({WEIGHTS_DIR, "wt_bank", NUM, ".hex"})) u_bank (
            .clk(clk), .en(run || wsel), .we(wsel),
            .addr(wsel ? wr_addr_r : rd_addr), .din(wr_data_r), .dout(bank_q[b]));
    end endgenerate

    // sideband aligned with the bank outputs (t+2): valid, last, ff, tag, word
    localparam SBW = 1 + 1 + 1 + TW + 9;
    wire [SBW-1:0] sb0 = {run, run && left == 0, ff, tag, word};
    wire [SBW-1:0] sb2;
    tg_delay #(.W(SBW), .N(2)) u_sb2 (.clk(clk), .rst(rst), .d(sb0), .q(sb2));

    // ------------------------------------------------------ activation lanes
    reg  [LANES*8-1:0] lx;

    // FFN buffer: element e in bank e % 16, address e / 16; x stored, and -x in
    // bank 0 (the exact lanes' slot)
    wire [16*8-1:0]  fb_rd;
    wire [8:0]       fb_nx0;
    reg  [3:0]       cp_group;
    reg              cp_run;
    reg  [15:0]      fb_full;       // group complete (NFG <= 16 used)
    // The buffer's write enables and its group-complete flags are registered from
    // the requantiser's look-ahead: decoded from fb_row0 they sat in front of
    // cp_go's register (nine levels) and of 16 LUT RAM write enables.
    reg  [15:0]      fb_bank_we;    // = fb_we && bank s is among the RMAX written
    reg  [15:0]      fb_set;        // = fb_we && the group's last RMAX: group done
    integer sw;
    always @(posedge clk)
        for (sw = 0; sw < 16; sw = sw + 1) begin
            fb_bank_we[sw] <= fb_we_next && {28'd0, fb_row0_next[3:0]} == sw - sw % RMAX;
            fb_set[sw] <= fb_we_next && {28'd0, fb_row0_next[3:0]} == 16 - RMAX &&
                          {28'd0, fb_row0_next[7:4]} == sw;
        end
`ifdef TRITGPT_ASSERT
    always @(posedge clk)
        for (sw = 0; sw < 16; sw = sw + 1)
            if (!rst && (fb_bank_we[sw] !== (fb_we && {28'd0, fb_row0[3:0]} == sw - sw % RMAX) ||
                         fb_set[sw] !== (fb_we && {28'd0, fb_row0[3:0]} == 16 - RMAX &&
                                         {28'd0, fb_row0[7:4]} == sw)))
                $display("ASSERT tg_matvec: FFN buffer enable %0d differs from fb_we / fb_row0's", sw);
`endif
    genvar s;
    generate for (s = 0; s < 16; s = s + 1) begin : g_fb
        // writer lane feeding bank s (RMAX consecutive rows, aligned)
        localparam integer WL = s % RMAX;
        wire [7:0]  wx  = fb_x[WL*8 +: 8];
        wire        we  = fb_bank_we[s];
        if (s == 0) begin : g_exact
            wire [8:0] wnx = 9'd0 - {1'b0, wx};
            tg_lutram #(.W(17), .DEPTH(16), .AW(4)) u_fb (
                .clk(clk), .we(we), .waddr(fb_row0[7:4]), .wdata({wnx, wx}),
                .raddr(cp_group), .rdata({fb_nx0, fb_rd[s*8 +: 8]}));
        end else begin : g_x
            tg_lutram #(.W(8), .DEPTH(16), .AW(4)) u_fb (
                .clk(clk), .we(we), .waddr(fb_row0[7:4]), .wdata(wx),
                .raddr(cp_group), .rdata(fb_rd[s*8 +: 8]));
        end
    end endgenerate

    // A group may be copied once it is complete and W1 no longer reads the lanes:
    //   cp_go = cp_run && fb_full[cp_group] && !run.
    // cp_go selects the bus source of 16 x 17 register bits and the lane enables, so
    // as one LUT it was the routed design's critical net (about 300 sinks across the
    // die after four levels of logic). It is a register instead, loaded with that
    // expression over the next state of cp_run, fb_full, cp_group and run.
    reg              cp_go;
    wire             cp_last  = cp_go && {28'd0, cp_group} == NFG - 1;
    wire             cp_run_n = fb_copy ? 1'b1 : cp_last ? 1'b0 : cp_run;
    wire [3:0]       cp_grp_n = fb_copy ? 4'd0 : cp_go ? cp_group + 1'b1 : cp_group;
    wire [15:0]      fb_ful_n = !fb_copy && cp_last ? 16'd0 : fb_full | fb_set;
    always @(posedge clk) begin
        if (rst) begin
            cp_run  <= 1'b0;
            fb_full <= 16'd0;
            cp_go   <= 1'b0;
        end else begin
            cp_run   <= cp_run_n;
            cp_group <= cp_grp_n;
            fb_full  <= fb_ful_n;
            cp_go    <= cp_run_n && fb_ful_n[cp_grp_n] && !run_n;
        end
    end
    assign fb_copy_done = cp_last;

    // Bus register stage: one copy of the data (fan-out 16 lanes per bit) and
    // one write enable per block of 16 lanes (fan-out 16 lanes).
    wire          bus_we    = (act_we && act_hi) | cp_go;
    wire          bus_ff    = cp_go ? 1'b1 : act_ff;
    wire [3:0]    bus_group = cp_go ? cp_group : act_group;
    wire [15:0]   bus_hot   = 16'd1 << bus_group;
    wire [15:0]   hot_d     = bus_we && !bus_ff ? bus_hot : 16'd0;
    wire [15:0]   hot_f     = bus_we &&  bus_ff ? bus_hot : 16'd0;
    reg  [15:0]      blk_en;
    reg  [16*8-1:0]  bx_r;
    reg  [8:0]       bnx0_r;         // -x of slot 0
    integer k;
    always @(posedge clk) begin
        for (k = 0; k < 16; k = k + 1) begin
            blk_en[k]           <= hot_d[((16 * k) % D) / 16] | hot_f[((16 * k) % DFF) / 16];
            if (cp_go)
                bx_r[k*8 +: 8]  <= fb_rd[k*8 +: 8];
            else if (act_we && act_hi == (k >= 8))
                bx_r[k*8 +: 8]  <= act_x[(k % 8)*8 +: 8];
        end
        if (cp_go)
            bnx0_r <= fb_nx0;
        else if (act_we && !act_hi)
            bnx0_r <= act_nx0;
    end

    genvar j;
    generate for (j = 0; j < LANES; j = j + 1) begin : g_lane
        localparam integer SL = j % 16;
        always @(posedge clk)
            if (blk_en[j / 16])
                lx[j*8 +: 8] <= bx_r[SL*8 +: 8];
    end endgenerate

    // ------------------------------------------------------------ adder tree
    // pend: one pending bit per node of each level, level m at poff(m) (level 0:
    // the lanes); a constant 0 for nodes whose subtree holds an exact lane
    reg  [TREE_BITS-1:0] tr;
    wire [LANES*9-1:0]   lane_v;
    wire [2*LANES-2:0]   pend;
    generate for (j = 0; j < LANES; j = j + 1) begin : g_mux
        wire [1:0] code = bank_q[j / 16][2 * (j % 16) +: 2];
        wire [8:0] xv = {lx[j*8 + 7], lx[j*8 +: 8]};
        if (j % D == 0) begin : g_exact
            reg [8:0] nx;                       // -x
            always @(posedge clk)
                if (blk_en[j / 16]) nx <= bnx0_r;
            assign lane_v[j*9 +: 9] = code == 2'b01 ? xv : code == 2'b10 ? nx : 9'd0;
            assign pend[j] = 1'b0;
        end else begin : g_ones
            assign lane_v[j*9 +: 9] = code == 2'b01 ? xv : code == 2'b10 ? ~xv : 9'd0;
            assign pend[j] = code == 2'b10;
        end
    end endgenerate

    genvar m, n;
    generate for (m = 1; m <= 8; m = m + 1) begin : g_lvl
        localparam NN = LANES >> m;
        localparam WW = 9 + m;
        for (n = 0; n < NN; n = n + 1) begin : g_node
            wire [WW-2:0] a, c;
            wire          pc;                   // the right child's pending bit
            if (m == 1) begin : g_first
                assign a  = lane_v[(2*n)*9 +: 9];
                assign c  = lane_v[(2*n+1)*9 +: 9];
            end else begin : g_next
                assign a  = tr[loff(m-1) + (2*n)*(WW-1) +: WW-1];
                assign c  = tr[loff(m-1) + (2*n+1)*(WW-1) +: WW-1];
            end
            assign pc = pend[poff(m-1) + 2*n + 1];
            always @(posedge clk)
                tr[loff(m) + n*WW +: WW] <= {a[WW-2], a} + {c[WW-2], c} + {{(WW-1){1'b0}}, pc};
            if (((n << m) % D) == 0) begin : g_exact
                assign pend[poff(m) + n] = 1'b0;
            end else begin : g_pend
                reg p;
                always @(posedge clk) p <= pend[poff(m-1) + 2*n];   // the left child's
                assign pend[poff(m) + n] = p;
            end
        end
    end endgenerate

    // Sideband through the tree, one cycle ahead of the row sums it describes,
    // so the requantiser can decode it into registers while the last level adds
    // (its matrix select was a long path from here). The d_model path waits
    // LD-2 cycles, the d_ff path LF-2, then one register serves both, its row
    // already scaled (D >= 8).
    wire [SBW-1:0] sbd, sbf;
    tg_delay #(.W(SBW), .N(LD-2)) u_sbd (.clk(clk), .rst(rst), .d(sb2[SBW-3] ? {SBW{1'b0}} : sb2), .q(sbd));
    tg_delay #(.W(SBW), .N(LF-2)) u_sbf (.clk(clk), .rst(rst), .d(sb2[SBW-3] ? sb2 : {SBW{1'b0}}), .q(sbf));
    wire [8:0]     row_d = sbd[8:0] << $clog2(RMAX);
    wire [8:0]     row_f = sbf[8:0] << $clog2(RFF);
    reg  [SBW-1:0] sbo;            // valid, last, ff, tag, first row
    reg            sbo_f;          // the row sums come from the d_ff level
    always @(posedge clk) begin
        if (rst) begin
            sbo   <= {SBW{1'b0}};
            sbo_f <= 1'b0;
        end else begin
            sbo   <= sbf[SBW-1] ? {sbf[SBW-1:9], row_f} : {sbd[SBW-1:9], row_d};
            sbo_f <= sbf[SBW-1];
        end
    end

    // the level select, one copy per output lane (17 muxes each)
    generate for (j = 0; j < RMAX; j = j + 1) begin : g_out
        wire          use_f;
        tg_copy_reg u_use_f (.clk(clk), .rst(rst), .d(sbo_f), .q(use_f));
        wire [LD+8:0] vd = tr[loff(LD) + j*(9+LD) +: 9+LD];
        wire [LF+8:0] vf = tr[loff(LF) + (j < RFF ? j : 0)*(9+LF) +: 9+LF];
        wire [16:0]   ed = {{(17-9-LD){vd[LD+8]}}, vd};
        wire [16:0]   ef = {{(17-9-LF){vf[LF+8]}}, vf};
        assign out_acc[j*17 +: 17] = use_f ? ef : ed;
    end endgenerate

    assign out_valid = sbo[SBW-1];
    assign out_last  = sbo[SBW-2];
    assign out_ff    = sbo[SBW-3];
    assign out_tag   = sbo[9 +: TW];
    assign out_row0  = sbo[8:0];

    // pipeline occupancy
    // A bus write in cycle c lands in the lanes at c+2; the word addressed in
    // cycle t reads them in t+2, so writes may start once no word is addressed.
    assign lanes_free = !run;
    reg [11:0] busy_sr;
    always @(posedge clk) begin
        if (rst) busy_sr <= 12'd0;
        else     busy_sr <= {busy_sr[10:0], run};
    end
    assign idle = !run && busy_sr == 12'd0;

`ifdef TRITGPT_ASSERT
    always @(posedge clk)
        if (!rst && |wsel_r && run)
            $display("ASSERT tg_matvec: a weight write lands while a matrix streams");
    // the unit reads a command's fields only with cmd_valid, and only while idle:
    // tg_fsm loads the next command's fields while the last one streams
    always @(posedge clk)
        if (!rst && cmd_valid && run)
            $display("ASSERT tg_matvec: a command arrives while a matrix streams");
    always @(posedge clk)
        if (!rst && cp_go !== (cp_run && fb_full[cp_group] && lanes_free))
            $display("ASSERT tg_matvec: cp_go differs from cp_run && fb_full[cp_group] && lanes_free");
    // a lane write lands at the end of the cycle; the word reading the lanes in
    // that cycle still sees the old vector, so that must be the last word of its
    // command, else a matrix would see a mix of two activation vectors
    always @(posedge clk)
        if (|blk_en && sb2[SBW-1] && !sb2[SBW-2])
            $display("ASSERT tg_matvec: activation lanes written during a stream");
`endif
endmodule

`default_nettype wire
