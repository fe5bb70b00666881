// True dual-port block RAM, both ports in no-change mode (a write leaves the
// port's output as it was), registered outputs plus one more fabric register
// on each port (two cycles addr -> dout).
//
// Memories are written so that yosys (synth_xilinx) and Vivado infer block RAM
// in a mode the open Xilinx flow handles: single port or true dual port, at
// most 32 data bits per port, no parity bits, power-of-two depth.

`default_nettype none

module tg_ram_tdp #(
    parameter W     = 32,
    parameter DEPTH = 512,
    parameter AW    = 9,
    parameter INIT  = ""
) (
    input  wire          clk,
    input  wire          en_a,
    input  wire          we_a,
    input  wire [AW-1:0] addr_a,
    input  wire [W-1:0]  din_a,
    output reg  [W-1:0]  dout_a,
    input  wire          en_b,
    input  wire          we_b,
    input  wire [AW-1:0] addr_b,
    input  wire [W-1:0]  din_b,
    output reg  [W-1:0]  dout_b
);
    (* ram_style = "block" *) reg [W-1:0] mem [0:DEPTH-1];
    reg [W-1:0] qa, qb;
    generate if (INIT != "") begin : g_init
        initial $readmemh(INIT, mem);
    end endgenerate
    always @(posedge clk) begin
        if (en_a) begin
            if (we_a) mem[addr_a] <= din_a;
            else      qa <= mem[addr_a];
        end
        dout_a <= qa;
    end
    always @(posedge clk) begin
        if (en_b) begin
            if (we_b) mem[addr_b] <= din_b;
            else      qb <= mem[addr_b];
        end
        dout_b <= qb;
    end
endmodule

`default_nettype wire
