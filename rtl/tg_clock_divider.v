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
//   DIV = N   a counter on clk_in enables the BUFGCE on one cycle in N
//             (high time one board period, low time N-1)
//
// Simulation (no SYNTHESIS define) uses the textbook clock-gate model: the enable
// is latched while clk_in is low, so clk_out has the same edges as the BUFGCE.
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
            // ce is high in the board cycle whose closing edge clk_out passes
            reg [3:0] count = 4'd0;
            reg       ce = 1'b0;
            always @(posedge clk_g) begin
                count <= (count == DIV - 1) ? 4'd0 : count + 4'd1;
                ce <= (count == DIV - 2);
            end
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
