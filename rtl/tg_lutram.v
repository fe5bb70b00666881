// Distributed (LUT) RAM: one synchronous write port, one asynchronous read port.
// Used for small scratch buffers that need many narrow ports.
//
// Memories are written so that yosys (synth_xilinx) and Vivado infer block RAM
// in a mode the open Xilinx flow handles: single port or true dual port, at
// most 32 data bits per port, no parity bits, power-of-two depth.

`default_nettype none

module tg_lutram #(
    parameter W     = 16,
    parameter DEPTH = 32,
    parameter AW    = 5
) (
    input  wire          clk,
    input  wire          we,
    input  wire [AW-1:0] waddr,
    input  wire [W-1:0]  wdata,
    input  wire [AW-1:0] raddr,
    output wire [W-1:0]  rdata
);
    (* ram_style = "distributed" *) reg [W-1:0] mem [0:DEPTH-1];
    always @(posedge clk)
        if (we) mem[waddr] <= wdata;
    assign rdata = mem[raddr];
endmodule

`default_nettype wire
