// Single-port block RAM, read-first, registered output plus one more fabric
// register (dout is valid two cycles after addr).
//
// Memories are written so that yosys (synth_xilinx) and Vivado infer block RAM
// in a mode the open Xilinx flow handles: single port or true dual port, at
// most 32 data bits per port, no parity bits, power-of-two depth.

`default_nettype none

module tg_ram_sp #(
    parameter W     = 32,
    parameter DEPTH = 512,
    parameter AW    = 9,
    parameter INIT  = ""
) (
    input  wire          clk,
    input  wire          en,
    input  wire          we,
    input  wire [AW-1:0] addr,
    input  wire [W-1:0]  din,
    output reg  [W-1:0]  dout
);
    (* ram_style = "block" *) reg [W-1:0] mem [0:DEPTH-1];
    reg [W-1:0] q;
    generate if (INIT != "") begin : g_init
        initial $readmemh(INIT, mem);
    end endgenerate
    always @(posedge clk) begin
        if (en) begin
            if (we) mem[addr] <= din;
            q <= mem[addr];
        end
        dout <= q;
    end
endmodule

`default_nettype wire
