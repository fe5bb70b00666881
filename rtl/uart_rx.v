// UART receiver, 8N1 (DATA_WIDTH data bits, no parity, one stop bit).
//
// rxd passes a two-flop synchroniser. A falling edge starts a byte; the start
// bit is checked at its middle (a glitch shorter than half a bit is ignored) and
// every following bit is sampled at its middle, timed by the same fractional
// (1/256 cycle) accumulator as uart_tx. Needs CLK_HZ / BAUD >= 4.
//
// m_axis_*: AXI-stream-like byte output. A byte stays valid until taken; if the
// previous byte has not been taken when a new one is complete, the new byte is
// dropped and overrun_error pulses. A byte whose stop bit is low is dropped and
// frame_error pulses (a break condition gives one frame error, not a stream).

`default_nettype none
// Registers start from their declared values when the FPGA is configured (and
// are reset where a restart needs it): Verilator's PROCASSINIT style warning is
// about exactly that idiom, so it is off in this file.
/* verilator lint_off PROCASSINIT */

module uart_rx #(
    parameter CLK_HZ = 100_000_000,
    parameter BAUD = 115200,
    parameter DATA_WIDTH = 8
) (
    input  wire                  clk,
    input  wire                  rst,

    output wire [DATA_WIDTH-1:0] m_axis_tdata,
    output wire                  m_axis_tvalid,
    input  wire                  m_axis_tready,

    input  wire                  rxd,

    output wire                  busy,
    output reg                   overrun_error = 1'b0,
    output reg                   frame_error = 1'b0
);

    /* verilator lint_off WIDTHEXPAND */
    localparam [63:0] CLK64 = CLK_HZ;
    localparam [63:0] BAUD64 = BAUD;
    /* verilator lint_on WIDTHEXPAND */
    localparam [63:0] PERIOD_Q8 = (64'd256 * CLK64 + BAUD64 / 2) / BAUD64;
    localparam ACC_W = 26;
    localparam [ACC_W-1:0] PERIOD = PERIOD_Q8[ACC_W-1:0];
    localparam [ACC_W-1:0] ONE = 256;
    // First sample (middle of the start bit): the edge reaches the FSM 2..3
    // cycles late through the synchroniser, and `tick` fires one cycle before
    // the accumulator runs out, so this lands 0..1 cycle before mid-bit.
    localparam [ACC_W-1:0] HALF = PERIOD / 2 - ONE / 2;

    // elaboration-time checks: an unknown module names the problem
    generate
        if (PERIOD_Q8 < 64'd1024) begin : g_bad_rate
            uart_rx_clk_hz_over_baud_must_be_at_least_4 u_err ();
        end
        if (PERIOD_Q8 >= (64'd1 << ACC_W)) begin : g_bad_slow
            uart_rx_clk_hz_over_baud_too_large u_err ();
        end
    endgenerate

    (* ASYNC_REG = "TRUE" *) reg [1:0] sync = 2'b11;
    wire rx = sync[1];

    localparam S_IDLE = 2'd0, S_START = 2'd1, S_DATA = 2'd2, S_STOP = 2'd3;
    reg [1:0]            state = S_IDLE;
    reg [ACC_W-1:0]      acc = {ACC_W{1'b0}};
    reg [3:0]            bitn = 4'd0;
    reg [DATA_WIDTH-1:0] shreg = {DATA_WIDTH{1'b0}};
    reg [DATA_WIDTH-1:0] data = {DATA_WIDTH{1'b0}};
    reg                  valid = 1'b0;
    reg                  wait_high = 1'b0;   // after a frame error: wait for the line to idle

    assign m_axis_tdata = data;
    assign m_axis_tvalid = valid;
    assign busy = state != S_IDLE;

    // tick: this cycle is the sampling point, acc < 2 * ONE. It is a register, set
    // from what acc becomes (below), so the 26-bit compare is not in front of the
    // state, shift and output registers (it was the routed critical path).
    reg  tick = 1'b1;
    wire start = !rx && !wait_high;

    always @(posedge clk) begin
        sync <= {sync[0], rxd};
        overrun_error <= 1'b0;
        frame_error <= 1'b0;
        if (m_axis_tready)
            valid <= 1'b0;

        // acc's next value is: IDLE: HALF on a start edge, else acc; START, DATA:
        // acc - ONE + PERIOD on a tick (>= 3 * ONE: PERIOD >= 4 * ONE), else acc - ONE;
        // STOP: acc on a tick, else acc - ONE. Off a tick acc >= 2 * ONE, so
        // acc - ONE < 2 * ONE is acc < 3 * ONE.
        case (state)
            S_IDLE:  tick <= start ? HALF < 2 * ONE : tick;
            S_STOP:  tick <= tick || acc < 3 * ONE;
            default: tick <= !tick && acc < 3 * ONE;
        endcase
        if (rst) tick <= 1'b1;

        if (rst) begin
            state <= S_IDLE;
            valid <= 1'b0;
            wait_high <= 1'b0;
            acc <= {ACC_W{1'b0}};
            bitn <= 4'd0;
        end else begin
            case (state)
            S_IDLE: begin
                if (rx)
                    wait_high <= 1'b0;
                if (start) begin
                    state <= S_START;
                    acc <= HALF;
                end
            end
            S_START: begin
                if (tick) begin
                    acc <= acc - ONE + PERIOD;
                    bitn <= 4'd0;
                    state <= rx ? S_IDLE : S_DATA;   // high again: a glitch, not a start bit
                end else begin
                    acc <= acc - ONE;
                end
            end
            S_DATA: begin
                if (tick) begin
                    acc <= acc - ONE + PERIOD;
                    shreg <= {rx, shreg[DATA_WIDTH-1:1]};
                    bitn <= bitn + 4'd1;
                    if (bitn == DATA_WIDTH[3:0] - 4'd1)
                        state <= S_STOP;
                end else begin
                    acc <= acc - ONE;
                end
            end
            S_STOP: begin
                if (tick) begin
                    // sampled the middle of the stop bit: ready for the next start edge
                    state <= S_IDLE;
                    if (!rx) begin
                        frame_error <= 1'b1;
                        wait_high <= 1'b1;
                    end else if (valid && !m_axis_tready) begin
                        overrun_error <= 1'b1;
                    end else begin
                        data <= shreg;
                        valid <= 1'b1;
                    end
                end else begin
                    acc <= acc - ONE;
                end
            end
            endcase
        end
    end

`ifdef TRITGPT_ASSERT
    always @(posedge clk)
        if (tick !== (acc < 2 * ONE))
            $fatal(1, "ASSERT uart_rx: tick differs from acc < 2 * ONE");
`endif
endmodule

/* verilator lint_on PROCASSINIT */
`default_nettype wire
