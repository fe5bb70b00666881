// Argmax and temperature sampling, the model's sample():
//   greedy (tinv == 0): first index of the maximum logit;
//   else e_i = EXP[min(255, ((zmax - z_i) * tinv) >> 8)], state = xorshift32(state),
//        r = ((state >> 16) * sum e) >> 16, token = first i with cumsum_i > r.
// The argmax runs on the fly while the LM head streams its logits (RMAX per
// cycle). Sampling makes two passes over the stored logits, two per cycle, on
// array slices 0 and 1: one for sum e, one for the running sum against r.

`default_nettype none
module tg_sampler #(
    parameter RMAX     = 4,
    parameter EXP_INIT = "rtl/tables/exp.hex"
) (
    input  wire              clk,
    input  wire              rst,
    // logits from the requantiser
    input  wire              z_valid,
    input  wire [8:0]        z_row0,
    input  wire [RMAX*16-1:0] z_y,
    // PRNG
    input  wire              seed_load,
    input  wire [31:0]       seed,
    // sampling
    input  wire              start,         // after the last logit
    input  wire [15:0]       tinv,
    output reg               done,          // pulse, token valid
    output reg  [6:0]        token,
    // multiplier array, slices 0 and 1
    output wire              arr_en,
    output wire [2*25-1:0]   arr_a,
    output wire [2*18-1:0]   arr_b,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire [2*43-1:0]   arr_p          // products < 2^35
    /* verilator lint_on UNUSEDSIGNAL */
);
    localparam LR  = $clog2(RMAX);
    localparam ZAW = 7 - LR;

    // ------------------------------------------------------ running argmax
    // A registered comparison tree over the RMAX logits of a word (one compare
    // per level: the logits arrive from the requantiser across the die, and a
    // chain of RMAX-1 compares there was the design's critical path), then one
    // compare against the running best. The word's best is ready LR cycles after
    // the word, so `start` is delayed by LR cycles too (LR + 1 cycles per token).
    // Candidates are {logit, index}; on ties the lower index (left) wins.
    localparam CW = 16 + 7;
    wire [(2*RMAX-1)*CW-1:0] cand;             // heap order: node n has children 2n+1, 2n+2
    genvar n;
    generate
        for (n = 0; n < RMAX; n = n + 1) begin : g_leaf   // lane n is leaf RMAX-1+n
            localparam [6:0] LANE = n;
            assign cand[(RMAX-1+n)*CW +: CW] = {z_y[n*16 +: 16], z_row0[6:0] + LANE};
        end
        for (n = 0; n < RMAX - 1; n = n + 1) begin : g_node
            wire [CW-1:0] lc = cand[(2*n+1)*CW +: CW];
            wire [CW-1:0] rc = cand[(2*n+2)*CW +: CW];
            reg  [CW-1:0] m;
            always @(posedge clk)
                m <= $signed(rc[CW-1:7]) > $signed(lc[CW-1:7]) ? rc : lc;
            assign cand[n*CW +: CW] = m;
        end
    endgenerate
    wire signed [15:0] wz = cand[CW-1:7];      // best of the word LR cycles ago
    wire [6:0]         wi = cand[6:0];
    wire [1:0]         wv;                     // {valid, first word} of that word
    wire               start_i;                // start, LR cycles later
    generate
        if (LR == 0) begin : g_nodelay
            assign wv = {z_valid, z_row0 == 9'd0};
            assign start_i = start;
        end else begin : g_delay
            tg_delay #(.W(3), .N(LR)) u_wv (.clk(clk), .rst(rst), .d({z_valid, z_row0 == 9'd0, start}),
                                             .q({wv, start_i}));
        end
    endgenerate
    reg signed [15:0] bz;
    reg [6:0]         bi;
    always @(posedge clk)
        if (wv[1] && (wv[0] || wz > bz)) begin
            bz <= wz;
            bi <= wi;
        end

    // logits store: row i in bank i % RMAX, address i / RMAX
    reg  [6:0]         si;          // pass index (even)
    wire [RMAX*16-1:0] zr;
    genvar b;
    generate for (b = 0; b < RMAX; b = b + 1) begin : g_z
        tg_lutram #(.W(16), .DEPTH(1 << ZAW), .AW(ZAW)) u_z (
            .clk(clk), .we(z_valid), .waddr(z_row0[6:LR]), .wdata(z_y[b*16 +: 16]),
            .raddr(si[6:LR]), .rdata(zr[b*16 +: 16]));
    end endgenerate
    // si is even, so si and si + 1 share an address
    wire [LR-1:0]      b0 = si[LR-1:0];
    wire [LR-1:0]      b1 = {si[LR-1:1], 1'b1};
    wire signed [15:0] z0 = zr[b0*16 +: 16];
    wire signed [15:0] z1 = zr[b1*16 +: 16];

    // ------------------------------------------------------ sampling passes
    localparam S_IDLE = 3'd0, S_A = 3'd1, S_AW = 3'd2, S_R = 3'd3, S_B = 3'd4, S_BW = 3'd5;
    reg [2:0]  st;
    reg [31:0] state;
    reg [16:0] esum;
    reg [16:0] rem;     // pass B: r minus the running sum (>= 0 until found)
    reg        found;
    reg [6:0]  pick;
    reg [3:0]  wait_n;
    reg        issue;
    wire [31:0] nstate;
    tg_xorshift32 u_xs (.s(state), .n(nstate));

    // stage 1 (issue + 1): zmax - z
    reg [16:0] d0, d1;
    reg        v1;
    always @(posedge clk) begin
        d0 <= {bz[15], bz} - {z0[15], z0};
        d1 <= {bz[15], bz} - {z1[15], z1};
    end
    reg r_issue;        // r = rand16 * esum on slice 0
    assign arr_a = r_issue ? {25'd0, 8'd0, esum} : {8'd0, d1, 8'd0, d0};
    assign arr_b = r_issue ? {18'd0, 2'd0, state[31:16]} : {2'd0, tinv, 2'd0, tinv};
    assign arr_en = v1 || r_issue;

    // stage 4 (issue + 4): d = min(255, P >> 8); EXP lookup -> e at issue + 7
    reg  [7:0] ea0, ea1;
    wire [7:0] e0, e1;
    always @(posedge clk) begin
        ea0 <= arr_p[0*43 + 8 +: 35] > 255 ? 8'd255 : arr_p[0*43 + 8 +: 8];
        ea1 <= arr_p[1*43 + 8 +: 35] > 255 ? 8'd255 : arr_p[1*43 + 8 +: 8];
    end
    tg_rom_dp #(.W(8), .DEPTH(256), .AW(8), .INIT(EXP_INIT)) u_exp (
        .clk(clk), .addr_a(ea0), .dout_a(e0), .addr_b(ea1), .dout_b(e1));
    // The ROM's outputs are registered once more (issue + 8), with their sum:
    // from the block RAM's output through the running sum's adds and compares
    // into the pick's enable was the routed design's critical path.
    reg  [7:0] vh;      // issue valid history
    always @(posedge clk) begin
        if (rst) vh <= 8'd0;
        else     vh <= {vh[6:0], issue};
    end
    always @(posedge clk) v1 <= issue;
    wire [6:0] ei;      // index of e0 at issue + 8
    tg_delay #(.W(7), .N(8)) u_ei (.clk(clk), .rst(rst), .d(si), .q(ei));
    wire e_v = vh[7];
    reg  [7:0] e0_r;
    reg  [8:0] e01_r;   // e0 + e1
    always @(posedge clk) begin
        e0_r  <= e0;
        e01_r <= {1'b0, e0} + {1'b0, e1};
    end
    // cum + e0 > r  <=>  e0 > rem;  cum + e0 + e1 > r  <=>  e0 + e1 > rem
    wire hit0 = {9'd0, e0_r} > rem;
    wire hit1 = {8'd0, e01_r} > rem;
    always @(posedge clk) begin
        if (rst) begin
            st <= S_IDLE; done <= 1'b0; issue <= 1'b0; r_issue <= 1'b0;
        end else begin
            done    <= 1'b0;
            r_issue <= 1'b0;
            if (seed_load) state <= seed == 32'd0 ? 32'h9E3779B9 : seed;
            case (st)
                S_IDLE: if (start_i) begin
                    if (tinv == 16'd0) begin
                        token <= bi; done <= 1'b1;
                    end else begin
                        st <= S_A; si <= 7'd0; issue <= 1'b1; esum <= 17'd0;
                    end
                end
                S_A, S_B: begin
                    if (si == 7'd126) begin
                        issue <= 1'b0; st <= st == S_A ? S_AW : S_BW; wait_n <= 4'd0;
                    end else si <= si + 7'd2;
                end
                default: ;
            endcase
            // pass A: sum e
            if (st == S_A || st == S_AW) begin
                if (e_v) esum <= esum + {8'd0, e01_r};
                if (st == S_AW) begin
                    wait_n <= wait_n + 1'b1;
                    if (wait_n == 4'd8) begin
                        st <= S_R; state <= nstate; r_issue <= 1'b1; wait_n <= 4'd0;
                    end
                end
            end
            if (st == S_R) begin
                wait_n <= wait_n + 1'b1;
                if (wait_n == 4'd3) begin   // p of slice 0 valid three cycles after r_issue
                    rem <= arr_p[16 +: 17];
                    st <= S_B; si <= 7'd0; issue <= 1'b1; found <= 1'b0;
                end
            end
            // pass B: first index whose running sum exceeds r
            if (st == S_B || st == S_BW) begin
                if (e_v) begin
                    rem <= rem - {8'd0, e01_r};
                    if (!found && hit0) begin found <= 1'b1; pick <= ei; end
                    else if (!found && hit1) begin found <= 1'b1; pick <= ei + 1'b1; end
                end
                if (st == S_BW) begin
                    wait_n <= wait_n + 1'b1;
                    if (wait_n == 4'd8) begin
                        st <= S_IDLE; done <= 1'b1; token <= pick;
                    end
                end
            end
        end
    end
endmodule

`default_nettype wire
