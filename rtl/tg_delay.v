// N-cycle delay line (N >= 1) for pipeline sideband signals.

`default_nettype none

module tg_delay #(
    parameter W = 1,
    parameter N = 1
) (
    input  wire         clk,
    input  wire         rst,
    input  wire [W-1:0] d,
    output wire [W-1:0] q
);
    reg [W-1:0] r [0:N-1];
    integer i;
    always @(posedge clk) begin
        if (rst) begin
            for (i = 0; i < N; i = i + 1) r[i] <= {W{1'b0}};
        end else begin
            r[0] <= d;
            for (i = 1; i < N; i = i + 1) r[i] <= r[i-1];
        end
    end
    assign q = r[N-1];
endmodule

`default_nettype wire
