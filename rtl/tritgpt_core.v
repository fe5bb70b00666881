// tritgpt_core: the ternary GPT inference core (see rtl/README.md).
//
// Model dimensions and memory depths come from the weights package's generated
// header tritgpt_config.vh (put the package directory on the include path);
// the BRAM images are read with $readmemh from WEIGHTS_DIR, the fixed tables
// from TABLES_DIR. Every weight memory can be rewritten through wr_* while the
// core is idle.

`default_nettype none
`include "tritgpt_config.vh"

module tritgpt_core #(
    parameter WEIGHTS_DIR = "weights/default/",   // prefix for $readmemh file names
    parameter TABLES_DIR  = "rtl/tables/"         // EXP / RSQRT / RECIP ROM images
) (
    input  wire        clk,
    input  wire        rst,                        // synchronous active-high reset
    input  wire        prompt_we,
    input  wire [7:0]  prompt_addr,
    input  wire [7:0]  prompt_data,                // history buffer writes before start
    input  wire        start,                      // pulse, accepted when busy == 0
    input  wire [8:0]  prompt_len,                 // 1..context
    input  wire [15:0] n_tokens,
    input  wire [15:0] tinv,                       // 0 = greedy
    input  wire [31:0] seed,
    input  wire        stop,                       // abort: idle at the next token boundary
    output wire        busy,
    output reg         done,                       // 1-cycle pulse at the end of a run
    output wire [7:0]  tok_data,
    output wire        tok_valid,
    input  wire        tok_ready,
    output wire [31:0] cycle_count,                // cycles of the run, excluding tok_ready stalls
    output wire [15:0] tok_count,
    output wire [63:0] model_hash,                 // consts words 2, 3
    input  wire        wr_en,
    input  wire [5:0]  wr_mem,                     // 0..31 weight bank, 32 tok_emb, 34 gains, 35 consts (33: unused)
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [15:0] wr_addr,                    // (deepest memory: 2^11 words for the default model)
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [31:0] wr_data
);

    localparam D     = `TG_D_MODEL;
    localparam H     = `TG_N_HEADS;
    localparam DFF   = `TG_D_FF;
    localparam CTX   = `TG_CONTEXT;
    localparam NL    = `TG_N_LAYERS;
    localparam RMAX  = 256 / D;
    localparam RFF   = 256 / DFF;
    localparam NS    = D / 2;
    localparam WAW   = $clog2(`TG_DEPTH_WT_BANK);
    localparam TAW   = $clog2(`TG_DEPTH_TOK_EMB);
    localparam GAW   = $clog2(`TG_DEPTH_GAINS);
    localparam CAW   = $clog2(`TG_DEPTH_CONSTS);
    localparam PAW   = $clog2(CTX);
    localparam LAW   = $clog2(NL) < 1 ? 1 : $clog2(NL);
    localparam KVAW  = LAW + PAW;
    localparam GW    = $clog2(D / 8) < 1 ? 1 : $clog2(D / 8);

    // configurations this RTL implements (generate-time check)
    generate
        if (D != 32 && D != 64) begin : g_bad_d
            tg_unsupported_config_d_model_must_be_32_or_64 u_err ();
        end
        if (DFF > 256 || DFF < D) begin : g_bad_ff
            tg_unsupported_config_d_ff_must_be_d_model_to_256 u_err ();
        end
        if (H < 2 || D / H < 2) begin : g_bad_h
            tg_unsupported_config_n_heads_must_be_2_to_d_model_over_2 u_err ();
        end
        if (NL > 8) begin : g_bad_l
            tg_unsupported_config_at_most_8_layers u_err ();
        end
    endgenerate

    localparam DST_Q = 0, DST_ATT = 3, DST_ACT = 4, DST_FFN = 5, DST_LOGIT = 6;

    // write port decode (idle only)
    wire wr_ok     = wr_en && !busy;
    wire wr_wt     = wr_ok && wr_mem[5] == 1'b0;
    wire wr_tok    = wr_ok && wr_mem == 6'd32;
    wire wr_gain   = wr_ok && wr_mem == 6'd34;
    wire wr_const  = wr_ok && wr_mem == 6'd35;

    // ------------------------------------------------------------------ FSM
    wire [7*22-1:0] rq;
    wire [4:0]      att_shift;
    wire [4*H-1:0]  alibi_shift;
    wire            ring_full;
    wire [2:0]      emb_shift;
    wire [15:0]     tinv_r;
    wire [31:0]     seed_r;
    wire [LAW-1:0]  layer;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [7:0]      pos;                // ring slot; bits above log2(context) only in dumps
    /* verilator lint_on UNUSEDSIGNAL */
    wire            emb_start;
    wire [6:0]      emb_token;
    wire [4:0]      gsel;
    wire            norm_ready, norm_arm, norm_done_early;
    /* verilator lint_off UNUSEDSIGNAL */
    wire            norm_done;          // (dumps and waveforms)
    wire [1:0]      norm_id;
    wire            step_start;
    wire            an_done;
    /* verilator lint_on UNUSEDSIGNAL */
    wire            mv_valid, mv_ff;
    wire [WAW-1:0]  mv_base;
    wire [WAW:0]    mv_words;
    wire [2:0]      mv_tag;
    wire            fb_copy, fb_copy_done;
    wire            rq_valid, rq_last;
    wire [2:0]      rq_dest;
    wire [8:0]      rq_row0;
    wire [RMAX*16-1:0] rq_y;
    wire [RMAX*16-1:0] rq_y_res;    // rq_y's copy for the residual add (its own flip-flops)
    wire            rqn_valid;      // the requantiser's next output, a cycle ahead
    wire [2:0]      rqn_dest;
    wire [8:0]      rqn_row0;
    wire            p1_start, an_done_early;
    wire            seed_load, smp_start, smp_done;
    wire [6:0]      smp_token;
    wire            fsm_done;

    // Reset tree: `rst` is one register at the top level. Each block gets its own
    // copy, a cycle later, which the placer puts among that block's flip-flops: one
    // net from the top level to thousands of loads across the die was the routed
    // design's critical path. Copies start at 1, so every block is in reset from
    // configuration on, as with `rst` itself.
    // (one instance per block, in this order: fsm, emb, mv, rq, res, arr, norm, att, smp)
    wire rst_fsm, rst_emb, rst_mv, rst_rq, rst_res, rst_arr, rst_norm, rst_att, rst_smp;
    tg_copy_reg #(.INIT(1'b1)) u_rst [8:0] (.clk(clk), .rst(1'b0), .d(rst),
        .q({rst_fsm, rst_emb, rst_mv, rst_rq, rst_res, rst_arr, rst_norm, rst_att, rst_smp}));

    tg_fsm #(.D(D), .DFF(DFF), .CTX(CTX), .NL(NL), .NH(H), .WAW(WAW), .CDEPTH(`TG_DEPTH_CONSTS), .CAW(CAW),
             .CINIT({WEIGHTS_DIR, "consts.hex"})) u_fsm (
        .clk(clk), .rst(rst_fsm),
        .prompt_we(prompt_we), .prompt_addr(prompt_addr), .prompt_data(prompt_data),
        .start(start), .prompt_len(prompt_len), .n_tokens(n_tokens), .tinv_in(tinv), .seed_in(seed),
        .stop(stop), .busy(busy), .done(fsm_done), .tok_data(tok_data), .tok_valid(tok_valid),
        .tok_ready(tok_ready), .cycle_count(cycle_count), .tok_count(tok_count), .model_hash(model_hash),
        .wr_consts(wr_const), .wr_addr(wr_addr[CAW-1:0]), .wr_data(wr_data),
        .rq(rq), .att_shift(att_shift), .alibi_shift(alibi_shift), .emb_shift(emb_shift), .tinv(tinv_r), .seed(seed_r),
        .layer(layer), .pos(pos), .ring_full(ring_full),
        .emb_start(emb_start), .emb_token(emb_token),
        .gsel(gsel), .norm_ready(norm_ready), .norm_arm(norm_arm), .norm_done(norm_done_early), .norm_id(norm_id),
        .mv_valid(mv_valid), .mv_base(mv_base), .mv_words(mv_words), .mv_ff(mv_ff), .mv_tag(mv_tag),
        .fb_copy(fb_copy), .fb_copy_done(fb_copy_done),
        .rq_last(rq_valid && rq_last), .rq_dest(rq_dest),
        .q_last(rq_valid && rq_dest == DST_Q && rq_row0 == D - RMAX),
        .p1_start(p1_start), .an_done(an_done_early),
        .seed_load(seed_load), .smp_start(smp_start), .smp_done(smp_done), .smp_token(smp_token),
        .step_start(step_start));
    always @(*) done = fsm_done;

    // ------------------------------------------------------------ embedding
    wire            e_valid, e_first, e_last;
    wire [GW-1:0]   e_grp;
    wire [8*16-1:0] e_x;
    tg_embedding #(.D(D), .GW(GW), .TDEPTH(`TG_DEPTH_TOK_EMB), .TAW(TAW),
                   .TOK_INIT({WEIGHTS_DIR, "tok_emb.hex"})) u_emb (
        .clk(clk), .rst(rst_emb), .wr_tok(wr_tok), .wr_addr(wr_addr[TAW-1:0]), .wr_data(wr_data),
        .start(emb_start), .token(emb_token), .emb_shift(emb_shift),
        .out_valid(e_valid), .out_first(e_first), .out_last(e_last), .out_grp(e_grp), .out_x(e_x));

    // ------------------------------------------------ matrix-vector + requant
    wire            act_we, act_hi;
    wire [3:0]      act_group;
    wire [8*8-1:0]  act_x;
    wire [8:0]      act_nx0;
    wire            mv_out_valid, mv_out_last;
    wire            unused_mv_ff, unused_mv_idle, unused_mv_lanes_free;
    wire [2:0]      mv_out_tag;
    wire [8:0]      mv_out_row0;
    wire [RMAX*17-1:0] mv_out_acc;
    wire            fb_we = rq_valid && rq_dest == DST_ACT;
    wire [RMAX*8-1:0] fb_x;
    genvar gi;
    generate for (gi = 0; gi < RMAX; gi = gi + 1) begin : g_fb
        assign fb_x[gi*8 +: 8] = rq_y[gi*16 +: 8];
    end endgenerate

    tg_matvec #(.D(D), .DFF(DFF), .WDEPTH(`TG_DEPTH_WT_BANK), .WAW(WAW), .TW(3), .WEIGHTS_DIR(WEIGHTS_DIR)) u_mv (
        .clk(clk), .rst(rst_mv),
        .wr_en(wr_wt && wr_mem[4] == 1'b0), .wr_bank(wr_mem[3:0]), .wr_addr(wr_addr[WAW-1:0]), .wr_data(wr_data),
        .act_we(act_we), .act_hi(act_hi), .act_ff(1'b0), .act_group(act_group), .act_x(act_x), .act_nx0(act_nx0),
        .fb_we(fb_we), .fb_row0(rq_row0[7:0]),
        .fb_we_next(rqn_valid && rqn_dest == DST_ACT), .fb_row0_next(rqn_row0[7:0]), .fb_x(fb_x), .fb_copy(fb_copy), .fb_copy_done(fb_copy_done),
        .cmd_valid(mv_valid), .cmd_base(mv_base), .cmd_words(mv_words), .cmd_ff(mv_ff), .cmd_tag(mv_tag),
        .idle(unused_mv_idle), .lanes_free(unused_mv_lanes_free),
        .out_valid(mv_out_valid), .out_tag(mv_out_tag), .out_ff(unused_mv_ff), .out_row0(mv_out_row0),
        .out_last(mv_out_last), .out_acc(mv_out_acc));

    tg_requant #(.D(D), .RMAX(RMAX), .TW(3)) u_rq (
        .clk(clk), .rst(rst_rq), .rq(rq),
        .in_valid(mv_out_valid), .in_tag(mv_out_tag), .in_row0(mv_out_row0),
        .in_last(mv_out_last), .in_acc(mv_out_acc),
        .out_valid(rq_valid), .out_dest(rq_dest), .out_row0(rq_row0), .out_last(rq_last), .out_y(rq_y), .out_y_res(rq_y_res),
        .next_valid(rqn_valid), .next_dest(rqn_dest), .next_row0(rqn_row0));

    // ------------------------------------------------------------- residual
    wire            r_valid, r_valid_next, r_first, r_last;
    wire [GW-1:0]   r_grp;
    wire [7:0]      r_mask;
    wire [8*16-1:0] r_x;
    wire            add_v = rq_valid && (rq_dest == DST_ATT || rq_dest == DST_FFN);
    tg_residual #(.GW(GW), .RMAX(RMAX), .RFF(RFF)) u_res (
        .clk(clk), .rst(rst_res),
        .e_valid(e_valid), .e_first(e_first), .e_last(e_last), .e_grp(e_grp), .e_x(e_x),
        .a_valid(add_v), .a_ff(rq_dest == DST_FFN), .a_last(rq_last), .a_row0(rq_row0), .a_y(rq_y_res),
        .a_ff_next(rqn_dest == DST_FFN), .a_row0_next(rqn_row0),
        .out_valid(r_valid), .out_valid_next(r_valid_next), .out_first(r_first), .out_last(r_last), .out_grp(r_grp), .out_mask(r_mask),
        .out_x(r_x));

    // ----------------------------------------------------- multiplier array
    wire [NS*25-1:0] arr_a;
    wire [NS*18-1:0] arr_b;
    wire [8*4-1:0]   arr_soff;
    wire [NS*43-1:0] arr_p;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [8*16-1:0]  pp_y;              // int8 results in the low bytes
    wire             att_en;            // attention is the default user
    wire             rms_en;            // (the assertion on rsel; the selects are rsel)
    /* verilator lint_on UNUSEDSIGNAL */
    wire             smp_en;
    wire             rms_en_next;       // rms_en a cycle ahead
    wire [16:0]      rsel;              // registered rms_en: slices 0..15, then arr_soff
    wire [16*25-1:0] rms_a;
    wire [16*18-1:0] rms_b;
    wire [8*4-1:0]   rms_soff, att_soff;
    wire [NS*25-1:0] att_a;
    wire [NS*18-1:0] att_b;
    wire [2*25-1:0]  smp_a;
    wire [2*18-1:0]  smp_b;

    // users never overlap: RMSNorm, sampler, else attention. The RMSNorm select
    // is a register loaded from rms_en_next, one copy per slice (and one for
    // arr_soff): rms_en is an OR of another block's register, and with 16 x 43
    // loads across the die it was the routed design's critical path.
    tg_copy_reg u_rsel [16:0] (.clk(clk), .rst(1'b0), .d(rms_en_next), .q(rsel));
    generate for (gi = 0; gi < NS; gi = gi + 1) begin : g_amux
        if (gi < 2) begin : g_s
            assign arr_a[gi*25 +: 25] = rsel[gi] ? rms_a[gi*25 +: 25] : smp_en ? smp_a[gi*25 +: 25] : att_a[gi*25 +: 25];
            assign arr_b[gi*18 +: 18] = rsel[gi] ? rms_b[gi*18 +: 18] : smp_en ? smp_b[gi*18 +: 18] : att_b[gi*18 +: 18];
        end else if (gi < 16) begin : g_r
            assign arr_a[gi*25 +: 25] = rsel[gi] ? rms_a[gi*25 +: 25] : att_a[gi*25 +: 25];
            assign arr_b[gi*18 +: 18] = rsel[gi] ? rms_b[gi*18 +: 18] : att_b[gi*18 +: 18];
        end else begin : g_a
            assign arr_a[gi*25 +: 25] = att_a[gi*25 +: 25];
            assign arr_b[gi*18 +: 18] = att_b[gi*18 +: 18];
        end
    end endgenerate
    assign arr_soff = rsel[16] ? rms_soff : att_soff;
`ifdef TRITGPT_ASSERT
    always @(posedge clk)
        if (!rst_arr && rsel !== {17{rms_en}})
            $display("ASSERT tritgpt_core: the registered array select differs from rms_en");
`endif

    tg_mac_array #(.NS(NS)) u_arr (
        .clk(clk), .rst(rst_arr), .a(arr_a), .b(arr_b), .pp_soff(arr_soff), .p(arr_p), .pp_y(pp_y));

    // -------------------------------------------------------------- RMSNorm
    wire rms_we, att_we;
    wire [4:0] rms_group, att_group;
    tg_rmsnorm #(.D(D), .GW(GW), .GDEPTH(`TG_DEPTH_GAINS), .GAW(GAW), .GINIT({WEIGHTS_DIR, "gains.hex"}),
                 .RSQRT_INIT({TABLES_DIR, "rsqrt.hex"})) u_norm (
        .clk(clk), .rst(rst_norm), .wr_en(wr_gain), .wr_addr(wr_addr[GAW-1:0]), .wr_data(wr_data),
        .in_valid(r_valid), .in_valid_next(r_valid_next), .in_first(r_first), .in_last(r_last), .in_grp(r_grp), .in_mask(r_mask),
        .in_x(r_x), .in_gsel(gsel), .ready(norm_ready),
        .arm(norm_arm), .out_we(rms_we), .out_group(rms_group), .out_done(norm_done),
        .out_done_early(norm_done_early),
        .arr_en(rms_en), .arr_en_next(rms_en_next), .arr_a(rms_a), .arr_b(rms_b), .arr_soff(rms_soff), .arr_p(arr_p[0 +: 16*43]));

    // ------------------------------------------------------------ attention
    tg_attention #(.D(D), .H(H), .RMAX(RMAX), .KVAW(KVAW), .PAW(PAW),
                   .EXP_INIT({TABLES_DIR, "exp.hex"}), .RECIP_INIT({TABLES_DIR, "recip.hex"})) u_att (
        .clk(clk), .rst(rst_att), .layer(layer), .pos(pos[PAW-1:0]), .ring_full(ring_full),
        .att_shift(att_shift), .alibi_shift(alibi_shift),
        .rq_valid(rq_valid), .rq_dest(rq_dest), .rq_row0(rq_row0), .rq_y(rq_y),
        .rqn_valid(rqn_valid), .rqn_dest(rqn_dest), .rqn_row0(rqn_row0),
        .p1_start(p1_start), .an_done_early(an_done_early), .an_done(an_done),
        .an_we(att_we), .an_group(att_group),
        .arr_en(att_en), .arr_a(att_a), .arr_b(att_b), .arr_soff(att_soff), .arr_p(arr_p));

    // ---------------------------------------------------------------- sampler
    tg_sampler #(.RMAX(RMAX), .EXP_INIT({TABLES_DIR, "exp.hex"})) u_smp (
        .clk(clk), .rst(rst_smp),
        .z_valid(rq_valid && rq_dest == DST_LOGIT), .z_row0(rq_row0), .z_y(rq_y),
        .seed_load(seed_load), .seed(seed_r), .start(smp_start), .tinv(tinv_r),
        .done(smp_done), .token(smp_token),
        .arr_en(smp_en), .arr_a(smp_a), .arr_b(smp_b), .arr_p(arr_p[0 +: 2*43]));

    // ------------------------------------------------- activation bus
    // RMSNorm output or attention output, 8 elements per cycle from the rounding
    // lanes (two cycles per group of 16 lanes); -x of slot 0 is computed here,
    // once per element, for the matrix-vector unit's exact lanes.
    wire [4:0] act_c = rms_we ? rms_group : att_group;
    assign act_we    = rms_we | att_we;
    assign act_hi    = act_c[0];
    assign act_group = act_c[4:1];
    generate for (gi = 0; gi < 8; gi = gi + 1) begin : g_bus
        assign act_x[gi*8 +: 8] = pp_y[gi*16 +: 8];
    end endgenerate
    assign act_nx0 = 9'd0 - {act_x[7], act_x[7:0]};

`ifdef TRITGPT_DUMP
    // ------------------------------------------------------------- dumps
    // One line per element of every intermediate vector, named as in
    // model.KVCache.step: "<name> <layer> <index> <value>", plus
    // "step <position> <token>" at the start of each step and "tok <t>".
    localparam DST_K = 1, DST_V = 2;
    integer dump_fd;
    reg [1023:0] dump_name;
    initial begin
        dump_fd = 0;
        if ($value$plusargs("dump=%s", dump_name)) dump_fd = $fopen(dump_name, "w");
    end
    // the residual's output: an embedding load one cycle on, a requantised row two
    // (and the layer of the row: the FSM may have moved on to the next)
    reg  res_from_emb, res_from_ffn, ffn_row;
    reg  [LAW-1:0] row_layer, res_layer;
    always @(posedge clk) begin
        res_from_emb <= e_valid;
        ffn_row      <= rq_valid && rq_dest == DST_FFN;
        res_from_ffn <= ffn_row;
        row_layer    <= layer;
        res_layer    <= row_layer;
    end
    integer di, dl, dv;
    reg [4:0] fsm_st_d;
    always @(posedge clk) fsm_st_d <= u_fsm.st;
    reg [8*8-1:0] dn;
    always @(posedge clk) if (dump_fd != 0) begin
        if (step_start) $fwrite(dump_fd, "step %0d %0d\n", pos, emb_token);
        if (tok_valid && tok_ready) $fwrite(dump_fd, "tok %0d\n", tok_data);
        if (fsm_done) $fflush(dump_fd);
        dl = {{(32-LAW){1'b0}}, layer};
        if (u_fsm.st != fsm_st_d) $fwrite(dump_fd, "fsm -1 %0d %0d\n", u_fsm.st, cycle_count);
        if (r_valid)
            for (di = 0; di < 8; di = di + 1)
                if (r_mask[di]) begin
                    dv = {{16{r_x[di*16 + 15]}}, r_x[di*16 +: 16]};
                    if (res_from_emb)      $fwrite(dump_fd, "x_emb -1 %0d %0d\n", r_grp * 8 + di, dv);
                    else if (res_from_ffn) $fwrite(dump_fd, "x_out %0d %0d %0d\n", res_layer, r_grp * 8 + di, dv);
                    else                   $fwrite(dump_fd, "x_mid %0d %0d %0d\n", res_layer, r_grp * 8 + di, dv);
                end
        if (rms_we)
            for (di = 0; di < 8; di = di + 1) begin
                dv = {{24{pp_y[di*16 + 7]}}, pp_y[di*16 +: 8]};
                if (norm_id == 2'd0)      $fwrite(dump_fd, "h1 %0d %0d %0d\n", dl, rms_group * 8 + di, dv);
                else if (norm_id == 2'd1) $fwrite(dump_fd, "h2 %0d %0d %0d\n", dl, rms_group * 8 + di, dv);
                else                      $fwrite(dump_fd, "hf -1 %0d %0d\n", rms_group * 8 + di, dv);
            end
        if (att_we)
            for (di = 0; di < 8; di = di + 1) begin
                dv = {{24{pp_y[di*16 + 7]}}, pp_y[di*16 +: 8]};
                $fwrite(dump_fd, "att %0d %0d %0d\n", dl, att_group * 8 + di, dv);
            end
        // attention scores and weights (debug; not in the reference dumps)
        if (u_att.st_v)
            for (di = 0; di < H; di = di + 1)
                if (di / (H / 2) == u_att.st_c) begin
                    dv = $signed(u_att.tree_s0[di*u_att.SW +: u_att.SW]);
                    $fwrite(dump_fd, "score %0d %0d %0d\n", dl, (u_att.st_pp * 2) * H + di, dv);
                    if (u_att.st_v1) begin
                        dv = $signed(u_att.tree_s1[di*u_att.SW +: u_att.SW]);
                        $fwrite(dump_fd, "score %0d %0d %0d\n", dl, (u_att.st_pp * 2 + 1) * H + di, dv);
                    end
                end
        if (rq_valid)
            for (di = 0; di < RMAX; di = di + 1)
                if (rq_dest != DST_FFN || di < RFF) begin
                    dv = {{16{rq_y[di*16 + 15]}}, rq_y[di*16 +: 16]};
                    case (rq_dest)
                        DST_Q:   $fwrite(dump_fd, "q %0d %0d %0d\n", dl, rq_row0 + di, dv);
                        DST_K:   $fwrite(dump_fd, "k %0d %0d %0d\n", dl, rq_row0 + di, dv);
                        DST_V:   $fwrite(dump_fd, "v %0d %0d %0d\n", dl, rq_row0 + di, dv);
                        DST_ATT: $fwrite(dump_fd, "att_out %0d %0d %0d\n", dl, rq_row0 + di, dv);
                        DST_ACT: $fwrite(dump_fd, "ffn_act %0d %0d %0d\n", dl, rq_row0 + di, dv);
                        DST_FFN: $fwrite(dump_fd, "ffn_out %0d %0d %0d\n", dl, rq_row0 + di, dv);
                        default: $fwrite(dump_fd, "logits -1 %0d %0d\n", rq_row0 + di, dv);
                    endcase
                end
    end
`endif
endmodule

`default_nettype wire
