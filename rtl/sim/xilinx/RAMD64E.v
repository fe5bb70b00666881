// Behavioural model of the 7 Series RAMD64E LUT-RAM element (UG474, "Distributed RAM";
// the per-LUT cell of RAM64M / RAM64X1D / RAM128X1D) for simulating nextpnr-xilinx's
// placed netlist (tritgpt/sim/postroute.py): its packer splits each RAM64M into RAMD64E
// cells, and yosys' share/xilinx/cells_sim.v has no RAMD64E.
//
// A 64 x 1 memory: written on the rising edge of CLK when WE is high and the two extra
// write-address bits select this LUT (WADR7 / WADR6 equal RAM_ADDRESS_SPACE where
// RAM_ADDRESS_MASK is 0: how a RAM128X1D / RAM256X1S spreads over several LUTs), at
// WADR5..0; read asynchronously at RADR5..0. INIT bit i is word i.
// Refused at time 0: an inverted write clock (IS_CLK_INVERTED).

/* verilator lint_off UNUSEDPARAM */
module RAMD64E #(
    parameter [63:0] INIT = 64'h0,
    parameter [0:0] IS_CLK_INVERTED = 1'b0,
    parameter [1:0] RAM_ADDRESS_MASK = 2'b00,
    parameter [1:0] RAM_ADDRESS_SPACE = 2'b00
) (
    output wire O,
    input  wire CLK,
    input  wire I,
    input  wire WE,
    input  wire RADR0, RADR1, RADR2, RADR3, RADR4, RADR5,
    input  wire WADR0, WADR1, WADR2, WADR3, WADR4, WADR5, WADR6, WADR7
);
    initial begin : check
        if (IS_CLK_INVERTED != 1'b0) begin
            $display("RAMD64E model %m: IS_CLK_INVERTED is not modelled");
            $finish;
        end
    end

    wire selected = (RAM_ADDRESS_MASK[1] | (WADR7 == RAM_ADDRESS_SPACE[1])) &
                    (RAM_ADDRESS_MASK[0] | (WADR6 == RAM_ADDRESS_SPACE[0]));
    reg [63:0] mem = INIT;
    assign O = mem[{RADR5, RADR4, RADR3, RADR2, RADR1, RADR0}];
    always @(posedge CLK) if (WE && selected) mem[{WADR5, WADR4, WADR3, WADR2, WADR1, WADR0}] <= I;
endmodule
