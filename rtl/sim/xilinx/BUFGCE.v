// Functional model of the 7 Series BUFGCE global clock buffer with clock enable
// (UG472, "Clocking Resources"), for gate-level simulation of yosys netlists: yosys'
// share/xilinx/cells_xtra.v declares BUFGCE without behaviour.
//
// Glitch-free gating: CE is sampled when I falls, so O = I while the sampled CE is
// high and O stays low otherwise; a change of CE while I is high never cuts or
// stretches a high pulse. For an enable that changes only while I is high (as
// rtl/tg_clock_divider.v makes it, from a flip-flop on the rising edge of I), this
// is the same clock as the RTL model there (a latch transparent while I is low).
// Before the first falling edge of I the output is low (CE sampled as 0).
// Refused at time 0: inverted pins (IS_CE_INVERTED, IS_I_INVERTED), CE_TYPE "ASYNC".

/* verilator lint_off UNUSEDPARAM */
module BUFGCE #(
    parameter CE_TYPE = "SYNC",
    parameter [0:0] IS_CE_INVERTED = 1'b0,
    parameter [0:0] IS_I_INVERTED = 1'b0,
    parameter SIM_DEVICE = "7SERIES",
    parameter STARTUP_SYNC = "FALSE"
) (
    output wire O,
    input  wire CE,
    input  wire I
);
    initial begin : check
        if (IS_CE_INVERTED != 1'b0 || IS_I_INVERTED != 1'b0 || CE_TYPE != "SYNC") begin
            $display("BUFGCE model %m: inverted pins and CE_TYPE %s are not modelled", CE_TYPE);
            $finish;
        end
    end

    reg enabled;
    initial enabled = 1'b0;
    always @(negedge I) enabled <= CE;
    assign O = I & enabled;
endmodule
