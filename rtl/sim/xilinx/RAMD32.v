// Behavioural model of the 7 Series RAMD32 LUT-RAM element (UG474, "Distributed RAM";
// the per-LUT cell of RAM32M / RAM32X1D) for simulating nextpnr-xilinx's placed netlist
// (tritgpt/sim/postroute.py): its packer splits each RAM32M into RAMD32 cells, one per
// LUT half, and yosys' share/xilinx/cells_sim.v has no RAMD32.
//
// A 32 x 1 memory: written on the rising edge of CLK when WE is high, at WADR; read
// asynchronously at RADR. INIT bit i is word i.
// Refused at time 0: an inverted write clock (IS_CLK_INVERTED).

/* verilator lint_off UNUSEDPARAM */
module RAMD32 #(
    parameter [31:0] INIT = 32'h0,
    parameter [0:0] IS_CLK_INVERTED = 1'b0
) (
    output wire O,
    input  wire CLK,
    input  wire I,
    input  wire WE,
    input  wire RADR0, RADR1, RADR2, RADR3, RADR4,
    input  wire WADR0, WADR1, WADR2, WADR3, WADR4
);
    initial begin : check
        if (IS_CLK_INVERTED != 1'b0) begin
            $display("RAMD32 model %m: IS_CLK_INVERTED is not modelled");
            $finish;
        end
    end

    reg [31:0] mem = INIT;
    assign O = mem[{RADR4, RADR3, RADR2, RADR1, RADR0}];
    always @(posedge CLK) if (WE) mem[{WADR4, WADR3, WADR2, WADR1, WADR0}] <= I;
endmodule
