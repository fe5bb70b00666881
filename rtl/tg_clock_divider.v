// Design clock = board clock / DIV, on a global clock buffer.
//
// Why not a PLL/MMCM: the design clock only has to be an integer fraction of the
// board clock, and a BUFGCE that passes one edge in DIV is a clean global clock
// with no lock time, no phase to time and no clock-management tile to configure
// (the open Artix-7 databases describe BUFGCTRL completely; CMT support varies).
// Every edge of clk_out is an edge of clk_in, so paths inside the clk_out domain
// get DIV board periods: give the place-and-route tool the design clock as target.
//
//   DIV = 1   clk_out is clk_in through a BUFG
//   DIV = N   a counter on clk_in enables the BUFGCE for one high phase in N
//             (high time half a board period)
//
// The enable changes only while clk_in is low (a flip-flop on the falling edge), so
// the buffer passes whole pulses however it treats CE. That matters: nextpnr-xilinx
// makes a BUFGCE a BUFGCTRL with IGNORE0 tied high, and an asserted IGNORE makes the
// buffer switch the instant its select (CE0) changes, without waiting for the clock
// to go low. An enable from the rising edge, which changes while clk_in is high,
// would then cut a passed pulse short (a runt of the enable's delay) and start
// another one late: two clock edges per N board cycles. Glitch-free gating (CE
// sampled while the clock is low) passes one pulse in N with this enable as well.
//
// Simulation (no SYNTHESIS define) gates with the enable as it stands while clk_in
// is low (latch): both readings of the buffer give these edges.
//
// Family (the one vendor-specific file of the design): Xilinx 7-series by default
// (BUFG, BUFGCE); with TG_FAMILY_ECP5 defined (the ECP5 board targets set it),
// Lattice ECP5: DCCA, the global clock buffer with a clock enable, for BUFG and BUFGCE.
// The DCCA gates glitch-free like the BUFGCE, so the simulation model covers both.

`default_nettype none

module tg_clock_divider #(
    parameter DIV = 1
) (
    input  wire clk_in,
    output wire clk_out
);

    initial begin
        if (DIV < 1 || DIV > 16) begin
            $display("tg_clock_divider: DIV must be 1..16, not %0d", DIV);
            $finish;
        end
    end

    generate
        if (DIV == 1) begin : g_direct
`ifdef SYNTHESIS
`ifdef TG_FAMILY_ECP5
            DCCA u_dcca (.CLKI(clk_in), .CE(1'b1), .CLKO(clk_out));
`else
            BUFG u_bufg (.I(clk_in), .O(clk_out));
`endif
`else
            assign clk_out = clk_in;
`endif
        end else begin : g_divide
            wire clk_g;
`ifdef SYNTHESIS
`ifdef TG_FAMILY_ECP5
            assign clk_g = clk_in;  // one DCCA per path: it gates clk_out below
`else
            BUFG u_bufg_in (.I(clk_in), .O(clk_g));
`endif
`else
            assign clk_g = clk_in;
`endif
            // count: the board cycle, 0..DIV-1, on the rising edge. ce rises on the falling
            // edge inside cycle DIV-1 and falls on the one inside cycle 0, so it is high
            // over the whole high phase that opens cycle 0, and clk_out passes that edge
            reg [3:0] count = 4'd0;
            reg       ce = 1'b0;
            always @(posedge clk_g) count <= (count == DIV - 1) ? 4'd0 : count + 4'd1;
            always @(negedge clk_g) ce <= (count == DIV - 1);
`ifdef SYNTHESIS
`ifdef TG_FAMILY_ECP5
            DCCA u_dcca (.CLKI(clk_g), .CE(ce), .CLKO(clk_out));
`else
            BUFGCE u_bufgce (.I(clk_g), .CE(ce), .O(clk_out));
`endif
`else
            reg ce_latched = 1'b0;
            /* verilator lint_off LATCH */
            always @(*) if (!clk_g) ce_latched = ce;
            /* verilator lint_on LATCH */
            assign clk_out = clk_g & ce_latched;
`endif
        end
    endgenerate

endmodule

`default_nettype wire
