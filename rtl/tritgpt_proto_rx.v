// Frame receive: bytes from the receive FIFO -> one checked command frame.
//
// Hunts for the sync byte, checks the type and the length the type allows,
// stores the payload (the first 10 bytes also as command fields), checks the
// CRC-16 and drops a partial frame after TIMEOUT_CYCLES without a byte. A good
// frame is offered on m_frame_* (valid/ready); every rejected byte or frame,
// and every UART overrun or framing error, becomes an ERROR on err_*.
//
// The payload buffer is shared with the executor, which reads it through
// pay_raddr/pay_rdata after taking the frame: the receiver starts on the next
// frame only when the executor is ready again (m_frame_ready), so the frame
// fields and the payload stay valid while a command executes.
//
// Bytes enter through a register that also holds their decoded class (sync,
// command type, the lengths each type allows), so the frame state machine
// tests flags rather than comparing bytes: the compares, the type decode and
// the state update were one path of 10 LUT levels. The register takes a byte
// at most every other cycle (s_tready is its empty flag, a flip-flop); the UART
// delivers one per ten bit times, at least 8 cycles at any supported rate.

`default_nettype none
// Registers start from their declared values when the FPGA is configured (and
// are reset where a restart needs it): Verilator's PROCASSINIT style warning is
// about exactly that idiom, so it is off in this file.
/* verilator lint_off PROCASSINIT */

`include "tritgpt_proto_defs.vh"

module tritgpt_proto_rx #(
    // a partial frame is discarded after this many cycles without a byte
    parameter TIMEOUT_CYCLES = 2_000_000
) (
    input  wire        clk,
    input  wire        rst,

    // bytes from the receive FIFO
    input  wire [7:0]  s_tdata,
    input  wire        s_tvalid,
    output wire        s_tready,

    // UART line errors (pulses)
    input  wire        rx_overrun,
    input  wire        rx_frame_error,

    // the received frame: type, length, command fields (payload bytes 0..9)
    output wire        m_frame_valid,
    input  wire        m_frame_ready,
    output reg  [7:0]  m_frame_type = 8'd0,
    output reg  [7:0]  m_frame_len = 8'd0,
    output wire [79:0] m_frame_fields,

    // the whole payload, read by the executor (pay_rdata a cycle after pay_raddr)
    input  wire [7:0]  pay_raddr,
    output reg  [7:0]  pay_rdata = 8'd0,

    // ERROR responses: code and detail, to the response queue (err_room: it has space)
    output reg         err_valid = 1'b0,
    output reg  [7:0]  err_code = 8'd0,
    output reg  [7:0]  err_detail = 8'd0,
    input  wire        err_room,

    output wire        hunting            // between frames, no byte held
);

    localparam [2:0] S_HUNT = 3'd0, S_TYPE = 3'd1, S_LEN = 3'd2, S_PAYLOAD = 3'd3,
                     S_CRC_HI = 3'd4, S_CRC_LO = 3'd5, S_CHECK = 3'd6;

    reg [2:0]  state = S_HUNT;
    reg [7:0]  idx = 8'd0;
    reg [15:0] crc = 16'hFFFF;
    reg [7:0]  fields [0:9];
    reg [7:0]  payload [0:255];
    reg        garbage_reported = 1'b0;
    reg        overrun_pending = 1'b0;
    reg        framing_pending = 1'b0;
    // cycles without a byte inside a frame, up to TIMEOUT_CYCLES - 1, and a flag
    // for having got there: the flag is what the timeout tests, so neither a
    // 32-bit counter nor a compare against it is in front of the state register
    // (the counter's carry chain was the routed design's worst path)
    localparam QW = $clog2(TIMEOUT_CYCLES + 1);
    /* verilator lint_off WIDTHTRUNC */
    localparam [QW-1:0] QLAST = TIMEOUT_CYCLES - 2;    // the count one cycle before the flag
    /* verilator lint_on WIDTHTRUNC */
    reg [QW-1:0] quiet = {QW{1'b0}};
    reg          quiet_done = 1'b0;                   // = cycles without a byte >= TIMEOUT_CYCLES - 1

    genvar g;
    generate
        for (g = 0; g < 10; g = g + 1) begin : g_fields
            assign m_frame_fields[8 * g +: 8] = fields[g];
        end
    endgenerate

    always @(posedge clk)
        pay_rdata <= payload[pay_raddr];

    wire in_frame = state == S_TYPE || state == S_LEN || state == S_PAYLOAD ||
                    state == S_CRC_HI || state == S_CRC_LO;

    // ---- the input byte and its class, decoded as it is taken from the FIFO ----
    reg        b_valid = 1'b0;
    reg [7:0]  b = 8'd0;
    reg        b_sync = 1'b0;             // b == TG_SYNC
    reg        b_nolen = 1'b0;            // a type whose payload is empty (IDENTIFY, STOP)
    reg        b_args = 1'b0;             // a type with >= 10 argument bytes (GENERATE, BENCH)
    reg        b_prompt = 1'b0;           // PROMPT: >= 2 bytes
    reg        b_write = 1'b0;            // WRITE: >= 7 bytes, 3 mod 4
    reg        b_len0 = 1'b0, b_len1 = 1'b0, b_ge2 = 1'b0, b_ge10 = 1'b0, b_wlen = 1'b0;
    assign s_tready = !b_valid;
    always @(posedge clk)
        if (s_tready) begin
            b <= s_tdata;
            b_sync <= s_tdata == `TG_SYNC;
            b_nolen <= s_tdata == `TG_CMD_IDENTIFY || s_tdata == `TG_CMD_STOP;
            b_args <= s_tdata == `TG_CMD_GENERATE || s_tdata == `TG_CMD_BENCH;
            b_prompt <= s_tdata == `TG_CMD_PROMPT;
            b_write <= s_tdata == `TG_CMD_WRITE;
            b_len0 <= s_tdata == 8'd0;
            b_len1 <= s_tdata == 8'd1;
            b_ge2 <= s_tdata >= 8'd2;
            b_ge10 <= s_tdata >= 8'd10;
            b_wlen <= s_tdata >= 8'd7 && s_tdata[1:0] == 2'd3;
        end

    // the frame logic takes the held byte this cycle
    wire take = b_valid && m_frame_ready &&
                (in_frame || (state == S_HUNT && !overrun_pending && !framing_pending));

    // The command fields are written a cycle after their byte is taken (byte 9,
    // the last, is at least three bytes before the frame is checked): the field
    // registers sit by the command's users, far from the receiver, and their
    // enables were among the 100 MHz runs' worst paths.
    reg       f_we = 1'b0;
    reg [3:0] f_idx;
    reg [7:0] f_b;
    always @(posedge clk) begin
        f_we  <= state == S_PAYLOAD && take && idx < 8'd10;
        f_idx <= idx[3:0];
        f_b   <= b;
        if (f_we) fields[f_idx] <= f_b;
    end

    assign hunting = state == S_HUNT && !b_valid;

    // the frame type's class, kept from the type byte
    reg t_nolen = 1'b0, t_args = 1'b0, t_prompt = 1'b0, t_write = 1'b0;
    wire type_ok = b_nolen || b_args || b_prompt || b_write;
    wire len_ok = (t_nolen && b_len0) || (t_args && b_ge10) || (t_prompt && b_ge2) ||
                  (t_write && b_wlen);

    // payload bytes still to come, counting the one held, and the flag for "the
    // held byte is the last" (a register, not a compare against the length)
    reg [7:0] left = 8'd0;
    reg       last = 1'b0;

    // The CRC starts from 16'hFFFF when a sync byte is taken, so every byte of
    // the frame updates it the same way; crc_zero is "the CRC after this byte
    // is zero", so the check at the end is a flip-flop.
    wire [15:0] crc_next;
    tritgpt_crc16 u_crc (.crc_in(crc), .data(b), .crc_out(crc_next));
    reg crc_zero = 1'b0;

    // crc is now the CRC over type..crc_lo: zero when the frame is intact
    assign m_frame_valid = state == S_CHECK && crc_zero;

    task report(input [7:0] code, input [7:0] detail);
        begin
            err_valid <= 1'b1;
            err_code <= code;
            err_detail <= detail;
        end
    endtask

    always @(posedge clk) begin
        err_valid <= 1'b0;
        if (rx_overrun) overrun_pending <= 1'b1;
        if (rx_frame_error) framing_pending <= 1'b1;

        if (s_tready)
            b_valid <= s_tvalid;
        else if (take)
            b_valid <= 1'b0;
        if (take) begin
            crc <= crc_next;
            crc_zero <= crc_next == 16'd0;
        end

        if (take || !in_frame) begin
            quiet <= {QW{1'b0}};
            quiet_done <= TIMEOUT_CYCLES <= 1;
        end else if (!quiet_done) begin
            quiet <= quiet + 1'b1;
            quiet_done <= quiet == QLAST;
        end

        // The reset comes last and overrides the control registers only: the data
        // registers (frame fields, type, length, CRC, error code and detail) take no
        // reset term, so the reset is not in their enables (as it was, it was the
        // routed design's critical path, across the die into their enables).
        begin : receive
            case (state)
            S_HUNT: if (m_frame_ready) begin
                if (overrun_pending) begin
                    report(`TG_ERR_OVERRUN, 8'd0);
                    overrun_pending <= 1'b0;
                end else if (framing_pending) begin
                    report(`TG_ERR_FRAMING, 8'd0);
                    framing_pending <= 1'b0;
                end else if (take) begin
                    if (b_sync) begin
                        state <= S_TYPE;
                        crc <= 16'hFFFF;
                        garbage_reported <= 1'b0;
                    end else if (!garbage_reported) begin
                        report(`TG_ERR_GARBAGE, b);
                        garbage_reported <= 1'b1;
                    end
                end
            end
            S_TYPE: if (take) begin
                m_frame_type <= b;
                t_nolen <= b_nolen;
                t_args <= b_args;
                t_prompt <= b_prompt;
                t_write <= b_write;
                if (b_sync) begin
                    state <= S_TYPE;              // repeated sync byte
                    crc <= 16'hFFFF;
                end else if (!type_ok) begin
                    report(`TG_ERR_BAD_TYPE, b);
                    state <= S_HUNT;
                end else begin
                    state <= S_LEN;
                end
            end
            S_LEN: if (take) begin
                m_frame_len <= b;
                idx <= 8'd0;
                left <= b;
                last <= b_len1;
                if (!len_ok) begin
                    report(`TG_ERR_BAD_LENGTH, m_frame_type);
                    state <= S_HUNT;
                end else begin
                    state <= b_len0 ? S_CRC_HI : S_PAYLOAD;
                end
            end
            S_PAYLOAD: if (take) begin
                payload[idx] <= b;
                idx <= idx + 8'd1;
                left <= left - 8'd1;
                last <= left == 8'd2;
                if (last)
                    state <= S_CRC_HI;
            end
            S_CRC_HI: if (take) begin
                state <= S_CRC_LO;
            end
            S_CRC_LO: if (take) begin
                state <= S_CHECK;
            end
            S_CHECK: if (err_room) begin
                if (!m_frame_valid) begin
                    report(`TG_ERR_BAD_CRC, m_frame_type);
                    state <= S_HUNT;
                end else if (m_frame_ready) begin
                    state <= S_HUNT;
                end
            end
            default: state <= S_HUNT;
            endcase

            // partial frame timeout (checked last: overrides the state above)
            if (in_frame && !take && quiet_done && err_room) begin
                report(`TG_ERR_TIMEOUT, state == S_TYPE ? 8'd0 : m_frame_type);
                state <= S_HUNT;
            end
        end
        if (rst) begin
            state <= S_HUNT;
            b_valid <= 1'b0;
            garbage_reported <= 1'b0;
            overrun_pending <= 1'b0;
            framing_pending <= 1'b0;
            err_valid <= 1'b0;
        end
    end

endmodule

/* verilator lint_on PROCASSINIT */
`default_nettype wire
