// Autoregressive control: the generation loop of model.generate and the
// order of operations of one token step (KVCache.step).
//
//   hist = prompt[-context:] or ["\n"]; cache = empty ring of context slots
//   until n tokens (or stop, checked after each delivered token):
//       step every history token not yet in the cache (prefill; only the last
//       step runs the final norm and LM head), sample, deliver the token,
//       append it to the history (a window of at most context tokens)
//
// Token step n writes its k, v to ring slot n % context (`pos`) and attends to
// every filled slot (`ring_full` once n >= context); positions are relative
// (ALiBi), so nothing is ever re-prefilled.
//
// One step: embedding -> per layer [norm1 -> QKV -> attention pass 1 -> pass 2
// -> normalise -> Wo (+ residual) -> norm2 -> W1 (ReLU) -> W2 (+ residual)]
// -> final norm -> LM head -> argmax / sample. Each phase starts when the
// previous one reports done; the units themselves are pipelined.
//
// The history is a 256-entry ring buffer of tokens (prompt writes go to
// entries 0..prompt_len-1 before start); the window slides by one entry per
// generated token once it holds context tokens. The consts memory (requantisation
// constants, shifts, model hash) is copied into registers after reset and at
// every start.

`default_nettype none

module tg_fsm #(
    parameter D      = 64,
    parameter DFF    = 256,
    parameter CTX    = 128,
    parameter NL     = 2,
    parameter NH     = 2,
    parameter WAW    = 9,
    parameter CDEPTH = 32,
    parameter CAW    = 5,
    parameter CINIT  = ""
) (
    input  wire              clk,
    input  wire              rst,
    // host interface (see tritgpt_core)
    input  wire              prompt_we,
    input  wire [7:0]        prompt_addr,
    input  wire [7:0]        prompt_data,
    input  wire              start,
    input  wire [8:0]        prompt_len,
    input  wire [15:0]       n_tokens,
    input  wire [15:0]       tinv_in,
    input  wire [31:0]       seed_in,
    input  wire              stop,
    output wire              busy,
    output reg               done,
    output reg  [7:0]        tok_data,
    output reg               tok_valid,
    input  wire              tok_ready,
    output reg  [31:0]       cycle_count,
    output reg  [15:0]       tok_count,
    output wire [63:0]       model_hash,
    input  wire              wr_consts,
    input  wire [CAW-1:0]    wr_addr,
    input  wire [31:0]       wr_data,
    // constants for the datapath
    output wire [7*22-1:0]   rq,            // requant (S << 16 | M) of the current layer + LM head
    output wire [4:0]        att_shift,
    output wire [4*NH-1:0]   alibi_shift,   // per head of the current layer
    output wire [2:0]        emb_shift,
    output reg  [15:0]       tinv,
    output reg  [31:0]       seed,
    output reg  [LW-1:0]     layer,
    output reg  [7:0]        pos,           // KV ring slot of this step
    output reg               ring_full,     // every slot holds a token (n >= context)
    // embedding
    output reg               emb_start,
    output reg  [6:0]        emb_token,
    // RMSNorm
    output reg  [4:0]        gsel,
    input  wire              norm_ready,
    output reg               norm_arm,
    input  wire              norm_done,     // early: two cycles before the last group lands
    output reg  [1:0]        norm_id,       // 0 = h1, 1 = h2, 2 = hf (for dumps)
    // matrix-vector unit: the command fields are loaded in every cycle of the
    // state that waits to issue it, and the done signal raises only mv_valid, so
    // no done signal sits in front of the fields (the unit takes them with
    // mv_valid and reads them at no other time)
    output reg               mv_valid,
    output reg  [WAW-1:0]    mv_base,
    // (not a state register: yosys took it for one, and its recoded next-state
    // logic was the deepest in the core, nine levels from st)
    (* fsm_encoding = "none" *)
    output reg  [WAW:0]      mv_words,
    output reg               mv_ff,
    output reg  [2:0]        mv_tag,
    output reg               fb_copy,
    input  wire              fb_copy_done,
    // requantiser output (last row of a command), last row of q
    input  wire              rq_last,
    input  wire [2:0]        rq_dest,
    input  wire              q_last,
    // attention
    output reg               p1_start,
    input  wire              an_done,       // early: two cycles before the last group lands
    // sampler
    output reg               seed_load,
    output reg               smp_start,
    input  wire              smp_done,
    input  wire [6:0]        smp_token,
    // for dumps
    output reg               step_start
);
    localparam LW      = $clog2(NL) < 1 ? 1 : $clog2(NL);
    localparam NC      = 9 + 8 * NL;                    // consts words used
    // weight stream: word counts and offsets (export.layout)
    localparam integer W_QKV_I = 3 * D * D / 256;
    localparam [WAW:0] W_QKV = W_QKV_I[WAW:0];
    localparam integer W_DD_I = D * D / 256;
    localparam [WAW:0] W_DD = W_DD_I[WAW:0];
    localparam integer W_FF_I = D * DFF / 256;
    localparam [WAW:0] W_FF = W_FF_I[WAW:0];
    localparam integer W_LM_I = 128 * D / 256;
    localparam [WAW:0] W_LM = W_LM_I[WAW:0];
    localparam integer O_WO_I = 3 * D * D / 256;
    localparam [WAW-1:0] O_WO = O_WO_I[WAW-1:0];
    localparam integer O_W1_I = 4 * D * D / 256;
    localparam [WAW-1:0] O_W1 = O_W1_I[WAW-1:0];
    localparam integer O_W2_I = (4 * D * D + D * DFF) / 256;
    localparam [WAW-1:0] O_W2 = O_W2_I[WAW-1:0];
    localparam integer W_LAYER_I = (4 * D * D + 2 * D * DFF) / 256;
    localparam [WAW-1:0] W_LAYER = W_LAYER_I[WAW-1:0];
    localparam integer B_LM_I = NL * (4 * D * D + 2 * D * DFF) / 256;
    localparam [WAW-1:0] B_LM = B_LM_I[WAW-1:0];
    localparam integer L_LAST_I = NL - 1;
    localparam [LW-1:0] L_LAST = L_LAST_I[LW-1:0];
    localparam integer CTX9_I = CTX;
    localparam [8:0] CTX9 = CTX9_I[8:0];
    localparam integer SLOT_LAST_I = CTX - 1;
    localparam [7:0] SLOT_LAST = SLOT_LAST_I[7:0];
    localparam integer C_LAST_I = NC - 1;
    localparam [CAW-1:0] C_LAST = C_LAST_I[CAW-1:0];
    localparam TAG_QKV = 0, TAG_WO = 1, TAG_W1 = 2, TAG_W2 = 3, TAG_LM = 4;
    localparam DST_FFN = 5, DST_LOGIT = 6;

    // ---------------------------------------------------------------- consts
    reg  [CAW-1:0] c_addr;
    reg            c_run;
    wire [31:0]    c_q;
    wire           c_wr = wr_consts && !busy;
    tg_ram_sp #(.W(32), .DEPTH(CDEPTH), .AW(CAW), .INIT(CINIT)) u_consts (
        .clk(clk), .en(1'b1), .we(c_wr), .addr(c_wr ? wr_addr : c_addr),
        .din(wr_data), .dout(c_q));
    reg [31:0] cw [0:NC-1];
    reg [1:0]  c_vld;              // read pipeline valid
    reg [CAW-1:0] c_a1, c_a2;
    reg        c_busy;
    always @(posedge clk) begin
        c_vld <= {c_vld[0], c_run};
        c_a1  <= c_addr;
        c_a2  <= c_a1;
        if (c_vld[1]) cw[c_a2] <= c_q;
    end
    assign model_hash = {cw[2], cw[3]};
    assign emb_shift  = cw[4][2:0];
    // word 8 + 8 * layer + m (m = 0..5 matrices, 6 = att_shift, 7 = ALiBi shifts); 8 + 8 * L: LM head
    wire [CAW:0] cbase = {{(CAW+1-LW-3){1'b0}}, layer, 3'b000} + 8;
    assign att_shift  = cw[cbase + 6][4:0];
    assign alibi_shift = cw[cbase + 7][4*NH-1:0];
    genvar gm;
    generate for (gm = 0; gm < 6; gm = gm + 1) begin : g_rq
        assign rq[gm*22 +: 22] = cw[cbase + gm][21:0];
    end endgenerate
    assign rq[6*22 +: 22] = cw[8 + 8 * NL][21:0];

    // ----------------------------------------------------------- history
    reg        hb_we;
    reg [7:0]  hb_addr;
    reg [7:0]  hb_din;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [7:0] hb_q;
    /* verilator lint_on UNUSEDSIGNAL */
    wire       p_we = prompt_we && !busy;
    tg_ram_sp #(.W(8), .DEPTH(256), .AW(8)) u_hist (
        .clk(clk), .en(1'b1), .we(p_we || hb_we), .addr(p_we ? prompt_addr : hb_addr),
        .din(p_we ? prompt_data : hb_din), .dout(hb_q));

    // ---------------------------------------------------------------- states
    localparam S_BOOT = 5'd0,  S_IDLE = 5'd1,  S_LOAD = 5'd2,  S_INIT = 5'd3,  S_NEXT = 5'd4,
               S_HRD  = 5'd5,  S_N1W  = 5'd6,  S_QKVW = 5'd7,  S_ANW  = 5'd8,  S_N2W  = 5'd9,
               S_W1W  = 5'd10, S_W2W  = 5'd11, S_W2D  = 5'd12, S_W2R  = 5'd13, S_NFW  = 5'd14,
               S_LMW  = 5'd15, S_SMW  = 5'd16, S_EMIT = 5'd17, S_FIN  = 5'd18;
    // one-hot: yosys keeps st binary by its own measure, and the decodes of a
    // binary st sat in front of the command registers and the memories' enables
    (* fsm_encoding = "one-hot" *)
    reg [4:0]  st;
    reg [8:0]  plen;
    reg [15:0] ntok;
    // this token is the run's last: a register, loaded every cycle, since
    // tok_count and ntok hold still for hundreds of cycles before S_EMIT reads it
    // (the 16-bit increment and compare in front of the state register were a
    // deep path)
    reg        tok_last;
    always @(posedge clk) tok_last <= tok_count + 1'b1 == ntok;
    reg [7:0]  hstart;
    reg [8:0]  hlen;
    reg [8:0]  clen;
    // the window slides at the next emitted token: a register, loaded every
    // cycle, since hlen holds still from S_INIT or S_EMIT to the next S_EMIT
    // (the increment and compare sat in front of the enables of hstart, hlen
    // and clen, near-critical in 100 MHz placements)
    reg        h_slide;
    always @(posedge clk) h_slide <= hlen + 1'b1 > CTX9;
    reg        need;       // this step produces logits
    reg        stop_req;
    reg [WAW-1:0] lbase;
    // the layer's matrix bases, a cycle behind lbase: lbase changes only on the
    // way into S_N1W, and the first of these is read in S_ANW, two states later
    reg [WAW-1:0] lbase_wo, lbase_w1, lbase_w2;
    always @(posedge clk) begin
        lbase_wo <= lbase + O_WO;
        lbase_w1 <= lbase + O_W1;
        lbase_w2 <= lbase + O_W2;
    end
    reg [1:0]  wt;
    reg [7:0]  slot;       // ring slot of the next step
    reg        filled;     // the ring has wrapped
    assign busy = st != S_IDLE;       // includes the consts load after reset

    wire rq_done_ffn = rq_last && rq_dest == DST_FFN;
    wire rq_done_lm  = rq_last && rq_dest == DST_LOGIT;
    wire [8:0] hlen_n = hlen + 1'b1;
    wire last_layer = layer == L_LAST;
    wire [3:0] layer_x = {{(4-LW){1'b0}}, layer};
    localparam integer G_F_I = 2 * NL;      // gain vector of the final norm
    localparam [4:0] G_F = G_F_I[4:0];

    always @(posedge clk) begin
        if (rst) begin
            st <= S_BOOT; c_run <= 1'b1; c_addr <= {CAW{1'b0}};
            done <= 1'b0; tok_valid <= 1'b0; cycle_count <= 32'd0; tok_count <= 16'd0;
            emb_start <= 1'b0; norm_arm <= 1'b0; mv_valid <= 1'b0; fb_copy <= 1'b0;
            p1_start <= 1'b0; seed_load <= 1'b0;
            smp_start <= 1'b0; hb_we <= 1'b0; stop_req <= 1'b0; step_start <= 1'b0;
            c_busy <= 1'b1;
        end else begin
            // single-cycle strobes
            done <= 1'b0; emb_start <= 1'b0; norm_arm <= 1'b0; mv_valid <= 1'b0; fb_copy <= 1'b0;
            p1_start <= 1'b0; seed_load <= 1'b0;
            smp_start <= 1'b0; hb_we <= 1'b0; step_start <= 1'b0;

            if (busy && st != S_BOOT && !(tok_valid && !tok_ready)) cycle_count <= cycle_count + 1'b1;
            if (busy && stop) stop_req <= 1'b1;

            // consts loader (after reset and at every start)
            if (c_run) begin
                c_addr <= c_addr + 1'b1;
                if (c_addr == C_LAST) c_run <= 1'b0;
            end
            if (!c_run && c_vld == 2'b00) c_busy <= 1'b0;

            case (st)
                S_BOOT: if (!c_busy) st <= S_IDLE;
                S_IDLE: if (start) begin
                    plen <= prompt_len; ntok <= n_tokens; tinv <= tinv_in; seed <= seed_in;
                    cycle_count <= 32'd0; tok_count <= 16'd0; stop_req <= 1'b0;
                    c_run <= 1'b1; c_addr <= {CAW{1'b0}}; c_busy <= 1'b1;
                    st <= S_LOAD;
                end
                S_LOAD: if (!c_busy) st <= S_INIT;
                S_INIT: begin
                    seed_load <= 1'b1;
                    clen <= 9'd0;
                    slot <= 8'd0; filled <= 1'b0;
                    if (plen == 9'd0) begin
                        hb_we <= 1'b1; hb_addr <= 8'd0; hb_din <= 8'd10;
                        hstart <= 8'd0; hlen <= 9'd1;
                    end else if (plen > CTX9) begin
                        hstart <= plen[7:0] - CTX9[7:0]; hlen <= CTX9;
                    end else begin
                        hstart <= 8'd0; hlen <= plen;
                    end
                    st <= ntok == 16'd0 ? S_FIN : S_NEXT;
                end
                S_NEXT: begin
                    hb_addr <= hstart + clen[7:0];
                    wt <= 2'd0;
                    st <= S_HRD;
                end
                S_HRD: begin
                    wt <= wt + 1'b1;
                    if (wt == 2'd2) begin
                        emb_token <= hb_q[6:0];     // tokens are 7-bit (hb_q[7] is 0)
                        emb_start <= 1'b1;
                        step_start <= 1'b1;
                        norm_arm <= 1'b1; norm_id <= 2'd0;
                        pos <= slot;
                        ring_full <= filled;
                        slot <= slot == SLOT_LAST ? 8'd0 : slot + 1'b1;
                        if (slot == SLOT_LAST) filled <= 1'b1;
                        need <= clen + 1'b1 == hlen;
                        layer <= {LW{1'b0}};
                        lbase <= {WAW{1'b0}};
                        gsel <= 5'd0;
                        st <= S_N1W;
                    end
                end
                S_N1W: begin
                    mv_base <= lbase; mv_words <= W_QKV; mv_ff <= 1'b0; mv_tag <= TAG_QKV;
                    if (norm_done) begin mv_valid <= 1'b1; st <= S_QKVW; end
                end
                // attention starts once q is complete; k, v stream on meanwhile
                S_QKVW: if (q_last) begin p1_start <= 1'b1; st <= S_ANW; end
                S_ANW: begin
                    mv_base <= lbase_wo; mv_words <= W_DD; mv_ff <= 1'b0; mv_tag <= TAG_WO;
                    if (an_done) begin
                        mv_valid <= 1'b1;
                        gsel <= {layer_x, 1'b1};
                        norm_arm <= 1'b1; norm_id <= 2'd1;
                        st <= S_N2W;
                    end
                end
                S_N2W: begin
                    mv_base <= lbase_w1; mv_words <= W_FF; mv_ff <= 1'b0; mv_tag <= TAG_W1;
                    if (norm_done) begin
                        mv_valid <= 1'b1;
                        fb_copy <= 1'b1;
                        st <= S_W1W;
                    end
                end
                S_W1W: begin
                    mv_base <= lbase_w2; mv_words <= W_FF; mv_ff <= 1'b1; mv_tag <= TAG_W2;
                    if (fb_copy_done) begin
                        mv_valid <= 1'b1;
                        gsel <= last_layer ? G_F : {layer_x + 4'd1, 1'b0};
                        if (!last_layer || need) begin
                            norm_arm <= 1'b1; norm_id <= last_layer ? 2'd2 : 2'd0;
                        end
                        st <= S_W2W;
                    end
                end
                S_W2W: if (rq_done_ffn) st <= S_W2D;
                S_W2D: begin
                    if (!last_layer) begin
                        layer <= layer + 1'b1;
                        lbase <= lbase + W_LAYER;
                        st <= S_N1W;
                    end else if (need) begin
                        st <= S_NFW;
                    end else begin
                        st <= S_W2R;
                    end
                end
                // prefill step without logits: wait until the residual stream is complete
                S_W2R: if (norm_ready) begin
                    clen <= clen + 1'b1;
                    st <= S_NEXT;
                end
                S_NFW: begin
                    mv_base <= B_LM; mv_words <= W_LM; mv_ff <= 1'b0; mv_tag <= TAG_LM;
                    if (norm_done) begin mv_valid <= 1'b1; st <= S_LMW; end
                end
                S_LMW: if (rq_done_lm) begin smp_start <= 1'b1; st <= S_SMW; end
                S_SMW: if (smp_done) begin
                    tok_data <= {1'b0, smp_token}; tok_valid <= 1'b1; st <= S_EMIT;
                end
                S_EMIT: if (tok_ready) begin
                    tok_valid <= 1'b0;
                    tok_count <= tok_count + 1'b1;
                    hb_we <= 1'b1; hb_addr <= hstart + hlen[7:0]; hb_din <= tok_data;
                    if (h_slide) begin
                        // the window slides; the ring cache already dropped the oldest token
                        hstart <= hstart + 1'b1;
                    end else begin
                        hlen <= hlen_n;
                        clen <= clen + 1'b1;
                    end
                    st <= (stop_req || stop || tok_last) ? S_FIN : S_NEXT;
                end
                S_FIN: begin done <= 1'b1; st <= S_IDLE; end
                default: st <= S_IDLE;
            endcase
        end
    end
`ifdef TRITGPT_ASSERT
    always @(posedge clk)
        if (!rst && st == S_EMIT && tok_ready && tok_last !== (tok_count + 1'b1 == ntok))
            $display("ASSERT tg_fsm: tok_last differs from tok_count + 1 == ntok");
    always @(posedge clk)
        if (!rst && st == S_EMIT && tok_ready && h_slide !== (hlen_n > CTX9))
            $display("ASSERT tg_fsm: h_slide differs from hlen + 1 > CTX");
`endif
endmodule

`default_nettype wire
