// Residual stream: x (d_model x int16) lives in LUT RAM, 8 banks (element e in
// bank e % 8) so up to 8 elements are read, added and written back per cycle.
//   x = emb                      (embedding load)
//   x = sat16(x + y)             (y = Wo or W2 output after requantisation)
// Every new x goes on to the RMSNorm statistics in the same 8-slot format.
//
// A requantised row takes two cycles: stage 0 selects each slot's operand into
// a register of its own (next to that slot's adder) and reads x into another,
// stage 1 adds and saturates. In one cycle, from the requantiser's register
// across the die through the select, the add and the saturation was the routed
// design's critical path. The embedding load takes stage 1 only.

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
    input  wire              a_last,
    input  wire [RMAX*16-1:0] a_y,
    input  wire              a_ff_next,     // next row's width, a cycle ahead: 1: W2 (RFF rows), 0: Wo (RMAX rows)
    input  wire [8:0]        a_row0_next,   // next row's first element, a cycle ahead
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire              a_ff,          // a_ff_next and a_row0_next a cycle later (for the assertion)
    input  wire [8:0]        a_row0,
    /* verilator lint_on UNUSEDSIGNAL */
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

    // The row's group, slot decode and width are registered here from the
    // look-ahead, so the LUT RAM read address and the add's operand selects start
    // at this block's flip-flops: from the requantiser's output register (rq_row0)
    // the read address crossed the die and was the routed design's critical path.
    reg  [GW-1:0] a_grp;                // = a_row0[GW+2:3]
    reg  [7:0]    a_rng;                // slot k takes a row: a_row0[2:0] == k - k % (a_ff ? RFF : RMAX)
    reg           a_ff_r;               // = a_ff
    reg           a_first;              // = a_row0 == 0
    integer k;
    always @(posedge clk) begin
        a_grp   <= a_row0_next[GW+2:3];
        a_ff_r  <= a_ff_next;
        a_first <= a_row0_next == 9'd0;
        for (k = 0; k < 8; k = k + 1)
            a_rng[k] <= a_ff_next ? {29'd0, a_row0_next[2:0]} == k - k % RFF
                                  : {29'd0, a_row0_next[2:0]} == k - k % RMAX;
    end
    // stage 0: slot k's operand and the row's decode, a cycle on
    reg  [8*16-1:0] b_y;
    reg  [GW-1:0]   b_grp;
    reg  [7:0]      b_rng;
    reg             b_valid, b_first, b_last;
    always @(posedge clk) begin
        for (k = 0; k < 8; k = k + 1)
            b_y[k*16 +: 16] <= a_ff_r ? a_y[(k % RFF)*16 +: 16] : a_y[(k % RMAX)*16 +: 16];
        b_valid <= !rst && a_valid;
        b_grp   <= a_grp;
        b_rng   <= a_rng;
        b_first <= a_first;
        b_last  <= a_last;
    end

    // x is read in stage 0 too (from a_grp) and registered beside b_y, so stage
    // 1 adds and saturates two registers: the LUT RAM read in front of the add
    // was the worst pre-route path of a 100 MHz placement (48 endpoints). A
    // slot of a group is written once per pass, so the read a cycle early sees
    // the same x (asserted below).
    wire [8*16-1:0] x_rd;
    reg  [8*16-1:0] x_q;
    reg  [7:0]      wmask;
    reg  [GW-1:0]   wgrp;
    genvar s;
    generate for (s = 0; s < 8; s = s + 1) begin : g_bank
        tg_lutram #(.W(16), .DEPTH(1 << XAW), .AW(XAW)) u_x (
            .clk(clk), .we(wmask[s]), .waddr({{(XAW-GW){1'b0}}, wgrp}), .wdata(out_x[s*16 +: 16]),
            .raddr({{(XAW-GW){1'b0}}, a_grp}), .rdata(x_rd[s*16 +: 16]));
    end endgenerate
    always @(posedge clk) x_q <= x_rd;
`ifdef TRITGPT_ASSERT
    // the write that lands at the end of the cycle x_q is read is the one the
    // early read misses: it must not touch the row's group and slots
    reg [7:0]    wmask_d;
    reg [GW-1:0] wgrp_d;
    always @(posedge clk) begin
        wmask_d <= rst ? 8'd0 : wmask;
        wgrp_d  <= wgrp;
        if (!rst && b_valid && wgrp_d == b_grp && |(wmask_d & b_rng))
            $display("ASSERT tg_residual: x read a cycle early misses a write to the row's slots");
    end
`endif

    assign out_valid_next = !rst && (e_valid || b_valid);

    always @(posedge clk) begin
        if (rst) begin
            out_valid <= 1'b0;
            wmask     <= 8'd0;
        end else begin
            out_valid <= out_valid_next;
            for (k = 0; k < 8; k = k + 1) begin : sl
                reg [16:0] sum;
                sum      = {x_q[k*16 + 15], x_q[k*16 +: 16]} + {b_y[k*16 + 15], b_y[k*16 +: 16]};
                wmask[k] <= e_valid || (b_valid && b_rng[k]);
                out_mask[k] <= e_valid || (b_valid && b_rng[k]);
                if (e_valid)
                    out_x[k*16 +: 16] <= e_x[k*16 +: 16];
                else
                    out_x[k*16 +: 16] <= sum[16] != sum[15] ? (sum[16] ? 16'h8000 : 16'h7fff) : sum[15:0];
            end
        end
        out_first <= e_valid ? e_first : b_first;
        out_last  <= e_valid ? e_last : b_last;
        out_grp   <= e_valid ? e_grp : b_grp;
        wgrp      <= e_valid ? e_grp : b_grp;
    end
`ifdef TRITGPT_ASSERT
    integer c;
    reg     rng_ok;
    always @(posedge clk) begin
        rng_ok = 1'b1;
        for (c = 0; c < 8; c = c + 1)
            if (a_rng[c] !== (a_ff ? {29'd0, a_row0[2:0]} == c - c % RFF : {29'd0, a_row0[2:0]} == c - c % RMAX))
                rng_ok = 1'b0;
        if (!rst && a_valid && (a_grp !== a_row0[GW+2:3] || a_ff_r !== a_ff || a_first !== (a_row0 == 9'd0) || !rng_ok))
            $display("ASSERT tg_residual: the registered row decode differs from a_row0 / a_ff");
        if (!rst && e_valid && b_valid)
            $display("ASSERT tg_residual: an embedding load meets a row in stage 1");
    end
`endif
endmodule

`default_nettype wire
