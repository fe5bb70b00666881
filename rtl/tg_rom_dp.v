// Dual-port ROM in block RAM (fixed tables). OREG = 1: two cycles addr -> dout
// (output registered once more in the fabric); OREG = 0: one cycle, for
// outputs that go straight into a register.
//
// Memories are written so that yosys (synth_xilinx) and Vivado infer block RAM
// in a mode the open Xilinx flow handles: single port or true dual port, at
// most 32 data bits per port, no parity bits, power-of-two depth.

`default_nettype none

module tg_rom_dp #(
    parameter W     = 16,
    parameter DEPTH = 256,
    parameter AW    = 8,
    parameter OREG  = 1,
    parameter INIT  = ""
) (
    input  wire          clk,
    input  wire [AW-1:0] addr_a,
    output wire [W-1:0]  dout_a,
    input  wire [AW-1:0] addr_b,
    output wire [W-1:0]  dout_b
);
    (* ram_style = "block", rom_style = "block" *) reg [W-1:0] mem [0:DEPTH-1];
    reg [W-1:0] qa, qb, ra, rb;
    generate if (INIT != "") begin : g_init
        initial $readmemh(INIT, mem);
    end endgenerate
    always @(posedge clk) begin
        qa <= mem[addr_a];
        qb <= mem[addr_b];
        ra <= qa;
        rb <= qb;
    end
    assign dout_a = OREG ? ra : qa;
    assign dout_b = OREG ? rb : qb;
endmodule

`default_nettype wire
