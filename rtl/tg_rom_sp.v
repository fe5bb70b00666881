// Single-port ROM in block RAM, one cycle addr -> dout (for outputs that go
// straight into a register).
//
// Memories are written so that yosys (synth_xilinx) and Vivado infer block RAM
// in a mode the open Xilinx flow handles: single port or true dual port, at
// most 32 data bits per port, no parity bits, power-of-two depth.

`default_nettype none

module tg_rom_sp #(
    parameter W     = 16,
    parameter DEPTH = 256,
    parameter AW    = 8,
    parameter INIT  = ""
) (
    input  wire          clk,
    input  wire [AW-1:0] addr,
    output reg  [W-1:0]  dout
);
    (* ram_style = "block", rom_style = "block" *) reg [W-1:0] mem [0:DEPTH-1];
    generate if (INIT != "") begin : g_init
        initial $readmemh(INIT, mem);
    end endgenerate
    always @(posedge clk) dout <= mem[addr];
endmodule

`default_nettype wire
