// First-word-fall-through FIFO, 2**LOG2 entries: the protocol engine's byte,
// token and response queues.

`default_nettype none
// Registers start from their declared values when the FPGA is configured (and
// are reset where a restart needs it): Verilator's PROCASSINIT style warning is
// about exactly that idiom, so it is off in this file.
/* verilator lint_off PROCASSINIT */

module tritgpt_proto_fifo #(
    parameter WIDTH = 8,
    parameter LOG2 = 6
) (
    input  wire             clk,
    input  wire             rst,

    // write side
    input  wire [WIDTH-1:0] din,
    input  wire             push,
    output wire             full,

    // read side
    output wire [WIDTH-1:0] dout,
    input  wire             pop,
    output wire             empty,

    output wire [LOG2:0]    count
);
    reg [WIDTH-1:0] mem [0:(1 << LOG2) - 1];
    reg [LOG2:0] wp = 0;
    reg [LOG2:0] rp = 0;

    assign count = wp - rp;
    assign full = count[LOG2];
    assign empty = wp == rp;
    assign dout = mem[rp[LOG2-1:0]];

    always @(posedge clk) begin
        if (push && !full)
            mem[wp[LOG2-1:0]] <= din;
        if (rst) begin
            wp <= 0;
            rp <= 0;
        end else begin
            if (push && !full)
                wp <= wp + 1'b1;
            if (pop && !empty)
                rp <= rp + 1'b1;
        end
    end
endmodule

/* verilator lint_on PROCASSINIT */
`default_nettype wire
