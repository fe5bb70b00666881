// One step of the xorshift32 PRNG, the model's xorshift32(): x ^= x << 13;
// x ^= x >> 17; x ^= x << 5. Combinational.

`default_nettype none

module tg_xorshift32 (
    input  wire [31:0] s,
    output wire [31:0] n
);
    wire [31:0] a = s ^ (s << 13);
    wire [31:0] b = a ^ (a >> 17);
    assign n = b ^ (b << 5);
endmodule

`default_nettype wire
