// Residual stream: x (d_model x int16) lives in LUT RAM, 8 banks (element e in
// bank e % 8) so up to 8 elements are read, added and written back per cycle.
//   x = emb                      (embedding load)
//   x = sat16(x + y)             (y = Wo or W2 output after requantisation)
// Every new x goes on to the RMSNorm statistics in the same 8-slot format.

`default_nettype none

module tg_residual #(
    parameter GW          = 3,      // log2(D / 8): element group index bits
    parameter RMAX = 4,      // rows per cycle of Wo (d_model inputs)
    parameter RFF  = 1       // rows per cycle of W2 (d_ff inputs)
) (
    input  wire              clk,
    input  wire              rst,
    // embedding load
    input  wire              e_valid,
    input  wire              e_first,
    input  wire              e_last,
    input  wire [GW-1:0]     e_grp,
    input  wire [8*16-1:0]   e_x,
    // requantised rows to add (dest Wo or W2)
    input  wire              a_valid,
    input  wire              a_ff,          // 1: W2 (RFF rows), 0: Wo (RMAX rows)
    input  wire              a_last,
    input  wire [8:0]        a_row0,
    input  wire [RMAX*16-1:0] a_y,
    // new x to the statistics
    output reg               out_valid,
    output wire              out_valid_next, // out_valid's next value, a cycle ahead
    output reg               out_first,
    output reg               out_last,
    output reg  [GW-1:0]     out_grp,
    output reg  [7:0]        out_mask,
    output reg  [8*16-1:0]   out_x
);
    localparam XAW = 5;

    wire [GW-1:0] a_grp = a_row0[GW+2:3];
    wire [2:0]    a_off = a_row0[2:0];
    wire [8*16-1:0] x_rd;
    reg  [7:0]      wmask;
    reg  [GW-1:0]   wgrp;
    genvar s;
    generate for (s = 0; s < 8; s = s + 1) begin : g_bank
        tg_lutram #(.W(16), .DEPTH(1 << XAW), .AW(XAW)) u_x (
            .clk(clk), .we(wmask[s]), .waddr({{(XAW-GW){1'b0}}, wgrp}), .wdata(out_x[s*16 +: 16]),
            .raddr({{(XAW-GW){1'b0}}, a_grp}), .rdata(x_rd[s*16 +: 16]));
    end endgenerate

    assign out_valid_next = !rst && (e_valid || a_valid);

    integer k;
    always @(posedge clk) begin
        if (rst) begin
            out_valid <= 1'b0;
            wmask     <= 8'd0;
        end else begin
            out_valid <= out_valid_next;
            for (k = 0; k < 8; k = k + 1) begin : sl
                reg        in_range;
                reg [15:0] y;
                reg [16:0] sum;
                in_range = a_ff ? {29'd0, a_off} == k - k % RFF : {29'd0, a_off} == k - k % RMAX;
                y        = a_ff ? a_y[(k % RFF)*16 +: 16] : a_y[(k % RMAX)*16 +: 16];
                sum      = {x_rd[k*16 + 15], x_rd[k*16 +: 16]} + {y[15], y};
                wmask[k] <= e_valid || (a_valid && in_range);
                out_mask[k] <= e_valid || (a_valid && in_range);
                if (e_valid)
                    out_x[k*16 +: 16] <= e_x[k*16 +: 16];
                else
                    out_x[k*16 +: 16] <= sum[16] != sum[15] ? (sum[16] ? 16'h8000 : 16'h7fff) : sum[15:0];
            end
        end
        out_first <= e_valid ? e_first : a_row0 == 9'd0;
        out_last  <= e_valid ? e_last : a_last;
        out_grp   <= e_valid ? e_grp : a_grp;
        wgrp      <= e_valid ? e_grp : a_grp;
    end
endmodule

`default_nettype wire
