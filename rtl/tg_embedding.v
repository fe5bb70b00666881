// Embedding lookup: x = tok_emb[t] << emb_shift (int16, exact; positions are
// relative, in attention). The table is block RAM with 4 int8 per word; ports A
// and B read two words each per cycle, so 8 elements come out per cycle (element
// e in slot e % 8), d_model/8 cycles per token. Port A is also the write port.

`default_nettype none

module tg_embedding #(
    parameter D           = 64,
    parameter GW          = 3,      // log2(D / 8): element group index bits
    parameter TDEPTH      = 2048,
    parameter TAW         = 11,
    parameter TOK_INIT    = ""
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              wr_tok,
    input  wire [TAW-1:0]    wr_addr,
    input  wire [31:0]       wr_data,
    input  wire              start,
    input  wire [6:0]        token,
    input  wire [2:0]        emb_shift,
    output reg               out_valid,
    output reg               out_first,
    output reg               out_last,
    output reg  [GW-1:0]     out_grp,
    output reg  [8*16-1:0]   out_x
);
    localparam WPV = D / 4;                   // words per vector
    localparam LW  = $clog2(WPV);
    localparam NG  = D / 8;                   // groups of 8
    localparam integer GLAST_I = NG - 1;
    localparam [GW-1:0] GLAST = GLAST_I[GW-1:0];

    reg          run;
    reg [GW-1:0] g;
    reg [6:0]    tok_r;
    always @(posedge clk) begin
        if (rst) run <= 1'b0;
        else if (start) begin
            run <= 1'b1; g <= {GW{1'b0}}; tok_r <= token;
        end else if (run) begin
            g <= g + 1'b1;
            if (g == GLAST) run <= 1'b0;
        end
    end
    /* verilator lint_off UNUSEDSIGNAL */
    wire [23:0]    ta_w = ({17'd0, tok_r} << LW) + ({{(24-GW){1'b0}}, g} << 1);
    /* verilator lint_on UNUSEDSIGNAL */
    wire [TAW-1:0] ta   = ta_w[TAW-1:0];
    wire [31:0] t0, t1;
    tg_ram_tdp #(.W(32), .DEPTH(TDEPTH), .AW(TAW), .INIT(TOK_INIT)) u_tok (
        .clk(clk),
        .en_a(run || wr_tok), .we_a(wr_tok), .addr_a(wr_tok ? wr_addr : ta), .din_a(wr_data), .dout_a(t0),
        .en_b(run), .we_b(1'b0), .addr_b(ta + 1'b1), .din_b(32'd0), .dout_b(t1));

    // sideband to the RAM outputs
    wire [GW+2:0] sb;
    tg_delay #(.W(GW + 3), .N(2)) u_sb (.clk(clk), .rst(rst),
        .d({run, run && g == 0, run && g == GLAST, g}), .q(sb));
    wire [63:0] tw = {t1, t0};
    integer s;
    always @(posedge clk) begin
        if (rst) out_valid <= 1'b0;
        else     out_valid <= sb[GW+2];
        out_first <= sb[GW+1];
        out_last  <= sb[GW];
        out_grp   <= sb[GW-1:0];
        for (s = 0; s < 8; s = s + 1) begin : el
            out_x[s*16 +: 16] <= {{8{tw[s*8 + 7]}}, tw[s*8 +: 8]} << emb_shift;
        end
    end
endmodule

`default_nettype wire
