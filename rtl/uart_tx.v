// UART transmitter, 8N1 (DATA_WIDTH data bits, no parity, one stop bit).
//
// The bit period is CLK_HZ / BAUD clock cycles, kept exact on average by a
// fractional (1/256 cycle) accumulator, so rates that do not divide the clock
// (3 Mbaud or 12 Mbaud from 100 MHz) stay within a fraction of a cycle per bit.
// Needs CLK_HZ / BAUD >= 4.
//
// s_axis_*: AXI-stream-like byte input; a byte is taken when tvalid && tready.
// tready is high while the transmitter is idle.

`default_nettype none
// Registers start from their declared values when the FPGA is configured (and
// are reset where a restart needs it): Verilator's PROCASSINIT style warning is
// about exactly that idiom, so it is off in this file.
/* verilator lint_off PROCASSINIT */

module uart_tx #(
    parameter CLK_HZ = 100_000_000,
    parameter BAUD = 115200,
    parameter DATA_WIDTH = 8
) (
    input  wire                  clk,
    input  wire                  rst,

    input  wire [DATA_WIDTH-1:0] s_axis_tdata,
    input  wire                  s_axis_tvalid,
    output wire                  s_axis_tready,

    output wire                  txd,
    output wire                  busy
);

    // bit period in 1/256 cycles, rounded to nearest
    /* verilator lint_off WIDTHEXPAND */
    localparam [63:0] CLK64 = CLK_HZ;
    localparam [63:0] BAUD64 = BAUD;
    /* verilator lint_on WIDTHEXPAND */
    localparam [63:0] PERIOD_Q8 = (64'd256 * CLK64 + BAUD64 / 2) / BAUD64;
    localparam ACC_W = 26;
    localparam [ACC_W-1:0] PERIOD = PERIOD_Q8[ACC_W-1:0];
    localparam [ACC_W-1:0] ONE = 256;

    // elaboration-time checks: an unknown module names the problem
    generate
        if (PERIOD_Q8 < 64'd1024) begin : g_bad_rate
            uart_tx_clk_hz_over_baud_must_be_at_least_4 u_err ();
        end
        if (PERIOD_Q8 >= (64'd1 << ACC_W)) begin : g_bad_slow
            uart_tx_clk_hz_over_baud_too_large u_err ();
        end
    endgenerate

    reg [DATA_WIDTH:0] shreg = {(DATA_WIDTH + 1){1'b1}};  // bits still to send, LSB first
    reg [3:0]          nbits = 4'd0;   // bits left including the current one
    reg [ACC_W-1:0]    acc = {ACC_W{1'b0}};
    reg                txd_reg = 1'b1;
    reg                active = 1'b0;

    assign txd = txd_reg;
    assign busy = active;
    assign s_axis_tready = !active && !rst;

    always @(posedge clk) begin
        if (rst) begin
            active <= 1'b0;
            txd_reg <= 1'b1;
            nbits <= 4'd0;
            acc <= {ACC_W{1'b0}};
            shreg <= {(DATA_WIDTH + 1){1'b1}};
        end else if (!active) begin
            txd_reg <= 1'b1;
            if (s_axis_tvalid) begin
                // start bit now, then data LSB first, then the stop bit
                txd_reg <= 1'b0;
                shreg <= {1'b1, s_axis_tdata};
                nbits <= DATA_WIDTH[3:0] + 4'd2;
                acc <= PERIOD;
                active <= 1'b1;
            end
        end else begin
            if (acc < 2 * ONE) begin
                // last cycle of this bit: move to the next one
                acc <= acc - ONE + PERIOD;
                nbits <= nbits - 4'd1;
                if (nbits == 4'd1) begin
                    active <= 1'b0;
                    txd_reg <= 1'b1;
                end else begin
                    txd_reg <= shreg[0];
                    shreg <= {1'b1, shreg[DATA_WIDTH:1]};
                end
            end else begin
                acc <= acc - ONE;
            end
        end
    end

endmodule

/* verilator lint_on PROCASSINIT */
`default_nettype wire
