// A register that synthesis keeps even when another one has the same input:
// for copying a flip-flop whose loads are too many, or too far apart, for one
// (each copy drives one group of them). yosys merges identical flip-flops
// (opt_merge) unless both carry the keep attribute; on the always block it
// reaches the flip-flop cells made from it and survives flattening.

`default_nettype none

module tg_copy_reg #(
    parameter W = 1,
    parameter [W-1:0] INIT = {W{1'b0}}   // value after configuration (a reset copy: 1)
) (
    input  wire         clk,
    input  wire         rst,      // synchronous, to 0
    input  wire [W-1:0] d,
    output reg  [W-1:0] q
);
    initial q = INIT;
    (* keep *) always @(posedge clk)
        if (rst) q <= {W{1'b0}};
        else     q <= d;
endmodule

`default_nettype wire
