// One DSP48E1 multiplier: registered operands, registered product, registered
// output (p is valid three cycles after a/b). 25 x 18 signed.

`default_nettype none

module tg_mac_slice (
    input  wire               clk,
    input  wire signed [24:0] a,
    input  wire signed [17:0] b,
    output reg  signed [42:0] p
);
    reg signed [24:0] a_r;
    reg signed [17:0] b_r;
    reg signed [42:0] m_r;
    always @(posedge clk) begin
        a_r <= a;
        b_r <= b;
        m_r <= a_r * b_r;
        p   <= m_r;
    end
endmodule

`default_nettype wire
