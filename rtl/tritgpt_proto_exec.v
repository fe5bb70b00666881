// Execute: one checked command frame -> the core, and the response to send.
//
// Takes a frame from tritgpt_proto_rx (valid/ready), checks its arguments and
// whether the device is free, then copies PROMPT / inline prompt bytes into the
// core's history (2 cycles per byte), writes WRITE words through the core's
// write port (2 cycles per byte), starts GENERATE / BENCH runs and handles STOP.
// Each command queues one response entry (ACK, ERROR or IDENT) on resp_*, as
// does each ERROR the receiver reports (s_err_*).
// It also owns the run state the frame transmitter needs (run, bench, done_seen,
// stop_req); the transmitter says when the run's END frame has gone (end_sent).
//
// Response entries, {kind[1:0], b0, b1, b2[15:0], b3}:
//   ACK:   b0 = command, b1/b2/b3 = echo fields
//   ERROR: b0 = code, b1 = detail
//   IDENT: no fields (the transmitter builds the payload from live state)

`default_nettype none
// Registers start from their declared values when the FPGA is configured (and
// are reset where a restart needs it): Verilator's PROCASSINIT style warning is
// about exactly that idiom, so it is off in this file.
/* verilator lint_off PROCASSINIT */

`include "tritgpt_proto_defs.vh"

module tritgpt_proto_exec #(
    parameter CONTEXT = 128
) (
    input  wire        clk,
    input  wire        rst,

    // the frame from tritgpt_proto_rx
    input  wire        s_frame_valid,
    output wire        s_frame_ready,
    input  wire [7:0]  s_frame_type,
    input  wire [7:0]  s_frame_len,
    input  wire [79:0] s_frame_fields,
    output reg  [7:0]  pay_raddr = 8'd0,
    input  wire [7:0]  pay_rdata,

    // the receiver's ERROR reports, queued as they come
    input  wire        s_err_valid,
    input  wire [7:0]  s_err_code,
    input  wire [7:0]  s_err_detail,

    // responses to queue (resp_room: the queue has space for one more)
    output wire        resp_valid,
    output wire [41:0] resp_data,
    input  wire        resp_room,
    output wire        error_pulse,          // the response is an ERROR

    // to / from tritgpt_core
    output reg         core_prompt_we = 1'b0,
    output reg  [7:0]  core_prompt_addr = 8'd0,
    output reg  [7:0]  core_prompt_data = 8'd0,
    output reg         core_start = 1'b0,
    output reg  [8:0]  core_prompt_len = 9'd1,
    output reg  [15:0] core_n_tokens = 16'd0,
    output reg  [15:0] core_tinv = 16'd0,
    output reg  [31:0] core_seed = 32'd0,
    output reg         core_stop = 1'b0,
    input  wire        core_busy,
    input  wire        core_done,
    output reg         core_wr_en = 1'b0,
    output reg  [5:0]  core_wr_mem = 6'd0,
    output reg  [15:0] core_wr_addr = 16'd0,
    output reg  [31:0] core_wr_data = 32'd0,

    // the run, shared with the frame transmitter
    output wire        run_start,           // a run starts (one cycle)
    output reg         run = 1'b0,          // a run is in progress (until its END frame is sent)
    output reg         bench = 1'b0,        // tokens are counted, not sent
    output reg         done_seen = 1'b0,    // the core has finished this run
    output reg         stop_req = 1'b0,     // STOP received during this run
    input  wire        end_sent,            // the run's END frame has been sent

    output wire        idle                 // ready for a frame
);

    localparam [1:0] K_ACK = 2'd0, K_ERR = 2'd1, K_IDENT = 2'd2;
    localparam [2:0] E_IDLE = 3'd0, E_COPY_RD = 3'd1, E_COPY_WR = 3'd2, E_START = 3'd3,
                     E_WORD_RD = 3'd4, E_WORD_WR = 3'd5, E_ACK = 3'd6, E_CHECK = 3'd7;
    localparam [15:0] CONTEXT_W = CONTEXT;

    reg [2:0]  state = E_IDLE;
    reg [7:0]  remaining = 8'd0;   // bytes or words left to copy
    reg [7:0]  waddr = 8'd0;       // prompt write address
    reg [1:0]  wbyte = 2'd0;
    /* verilator lint_off UNUSEDSIGNAL */
    reg [31:0] wword = 32'd0;      // bits 7:0 are shifted out unused
    /* verilator lint_on UNUSEDSIGNAL */

    // this module's responses; the receiver reports only while this module is
    // idle and not taking a frame, so the two never coincide
    reg         cmd_resp_valid = 1'b0;
    reg  [41:0] cmd_resp_data = 42'd0;
    reg         cmd_error = 1'b0;
    assign resp_valid = cmd_resp_valid || s_err_valid;
    assign resp_data = s_err_valid ? {K_ERR, s_err_code, s_err_detail, 24'd0} : cmd_resp_data;
    assign error_pulse = cmd_error || s_err_valid;

    assign idle = state == E_IDLE;
    assign s_frame_ready = idle && resp_room;
    wire take = s_frame_valid && s_frame_ready;
    assign run_start = state == E_START;

    // command fields
    wire [7:0]  ftype   = s_frame_type;
    wire [7:0]  flen    = s_frame_len;
    wire [15:0] f_n     = s_frame_fields[15:0];
    wire [15:0] f_tinv  = s_frame_fields[31:16];
    wire [31:0] f_seed  = s_frame_fields[63:32];
    wire [15:0] f_plen  = s_frame_fields[79:64];
    wire [7:0]  f_tail  = flen - 8'd10;             // inline prompt bytes (the prompt's tail)
    wire [7:0]  f_off   = s_frame_fields[7:0];      // PROMPT offset
    wire [8:0]  f_pcnt  = {1'b0, flen} - 9'd1;      // PROMPT byte count
    wire [7:0]  f_mem8  = s_frame_fields[7:0];      // WRITE memory id
    wire [5:0]  f_mem   = f_mem8[5:0];
    wire [15:0] f_addr  = s_frame_fields[23:8];
    wire [7:0]  f_words = {2'b00, flen[7:2]};       // (len - 3) / 4 for len = 3 mod 4
    wire        busy_now = run || core_busy;

    wire gen_args_ok = f_n != 16'd0 && f_plen != 16'd0 && f_plen <= CONTEXT_W &&
                       {8'd0, f_tail} <= f_plen;
    wire prompt_args_ok = {1'b0, f_off} + f_pcnt <= {1'b0, CONTEXT_W[8:0]} &&
                          CONTEXT_W <= 16'd256;
    wire write_args_ok = f_mem8 <= {2'b00, `TG_MEM_MAX} &&
                         {1'b0, f_addr} + {9'd0, f_words} <= 17'h10000;

    // The checks of a frame's arguments (sums and compares over its fields) and the
    // device's state are registered in the cycle the frame is taken and acted on in
    // the next (E_CHECK), while the receiver holds the frame: taken and acted on in
    // one cycle they were, with the response queue's room, the routed design's
    // worst path. A command costs one cycle more.
    // The frame's type is decoded the same way, one flag per command: the 8-bit
    // compares in front of the response data and the next state were the routed
    // design's worst path (frame_type through five LUTs).
    reg busy_r = 1'b0, gen_ok_r = 1'b0, prompt_ok_r = 1'b0, write_ok_r = 1'b0;
    reg t_ident = 1'b0, t_stop = 1'b0, t_prompt = 1'b0, t_run = 1'b0, t_write = 1'b0;
    always @(posedge clk) begin
        busy_r      <= busy_now;
        gen_ok_r    <= gen_args_ok;
        prompt_ok_r <= prompt_args_ok;
        write_ok_r  <= write_args_ok;
        t_ident     <= ftype == `TG_CMD_IDENTIFY;
        t_stop      <= ftype == `TG_CMD_STOP;
        t_prompt    <= ftype == `TG_CMD_PROMPT;
        t_run       <= ftype == `TG_CMD_GENERATE || ftype == `TG_CMD_BENCH;
        t_write     <= ftype == `TG_CMD_WRITE;
    end

    task push_err(input [7:0] code, input [7:0] detail);
        begin
            cmd_resp_valid <= 1'b1;
            cmd_resp_data <= {K_ERR, code, detail, 16'd0, 8'd0};
            cmd_error <= 1'b1;
        end
    endtask

    task push_ack(input [7:0] cmd, input [7:0] a, input [15:0] bb, input [7:0] c);
        begin
            cmd_resp_valid <= 1'b1;
            cmd_resp_data <= {K_ACK, cmd, a, bb, c};
        end
    endtask

    always @(posedge clk) begin
        cmd_resp_valid <= 1'b0;
        cmd_error <= 1'b0;
        core_prompt_we <= 1'b0;
        core_wr_en <= 1'b0;
        core_start <= 1'b0;

        // The reset is applied after the command, to the state and the pulses
        // only: the data registers (response data, the core's prompt, start and
        // write-port fields) take no reset term, so the reset is not in their
        // enables, which run across the die to the core.
        begin : execute
            case (state)
            E_IDLE: if (take) state <= E_CHECK;
            E_CHECK: begin
                state <= E_IDLE;
                if (t_ident) begin
                    cmd_resp_valid <= 1'b1;
                    cmd_resp_data <= {K_IDENT, 40'd0};
                end else if (t_stop) begin
                    push_ack(`TG_CMD_STOP, {7'd0, run}, 16'd0, 8'd0);
                    if (run && !done_seen)
                        stop_req <= 1'b1;
                end else if (t_prompt) begin
                    if (busy_r) begin
                        push_err(`TG_ERR_BUSY, ftype);
                    end else if (!prompt_ok_r) begin
                        push_err(`TG_ERR_BAD_ARG, ftype);
                    end else begin
                        pay_raddr <= 8'd1;
                        waddr <= f_off;
                        remaining <= f_pcnt[7:0];
                        state <= E_COPY_RD;
                    end
                end else if (t_run) begin
                    if (busy_r) begin
                        push_err(`TG_ERR_BUSY, ftype);
                    end else if (!gen_ok_r) begin
                        push_err(`TG_ERR_BAD_ARG, ftype);
                    end else begin
                        pay_raddr <= 8'd10;
                        waddr <= f_plen[7:0] - f_tail;
                        remaining <= f_tail;
                        state <= f_tail == 8'd0 ? E_START : E_COPY_RD;
                    end
                end else if (t_write) begin
                    if (busy_r) begin
                        push_err(`TG_ERR_BUSY, ftype);
                    end else if (!write_ok_r) begin
                        push_err(`TG_ERR_BAD_ARG, ftype);
                    end else begin
                        pay_raddr <= 8'd3;
                        core_wr_mem <= f_mem;
                        core_wr_addr <= f_addr - 16'd1;
                        remaining <= f_words;
                        wbyte <= 2'd0;
                        state <= E_WORD_RD;
                    end
                end else begin
                    push_err(`TG_ERR_BAD_TYPE, ftype);
                end
            end
            // prompt bytes -> core history buffer, 2 cycles per byte
            E_COPY_RD: state <= E_COPY_WR;
            E_COPY_WR: begin
                core_prompt_we <= 1'b1;
                core_prompt_addr <= waddr;
                core_prompt_data <= pay_rdata;
                waddr <= waddr + 8'd1;
                pay_raddr <= pay_raddr + 8'd1;
                remaining <= remaining - 8'd1;
                if (remaining == 8'd1)
                    state <= t_prompt ? E_ACK : E_START;
                else
                    state <= E_COPY_RD;
            end
            E_START: begin
                core_start <= 1'b1;
                core_prompt_len <= f_plen[8:0];
                core_n_tokens <= f_n;
                core_tinv <= f_tinv;
                core_seed <= f_seed;
                state <= E_ACK;
            end
            // weight words (little-endian bytes) -> core write port, 2 cycles per byte
            E_WORD_RD: state <= E_WORD_WR;
            E_WORD_WR: begin
                wword <= {pay_rdata, wword[31:8]};
                pay_raddr <= pay_raddr + 8'd1;
                wbyte <= wbyte + 2'd1;
                state <= E_WORD_RD;
                if (wbyte == 2'd3) begin
                    core_wr_en <= 1'b1;
                    core_wr_data <= {pay_rdata, wword[31:8]};
                    core_wr_addr <= core_wr_addr + 16'd1;
                    remaining <= remaining - 8'd1;
                    if (remaining == 8'd1)
                        state <= E_ACK;
                end
            end
            E_ACK: begin
                state <= E_IDLE;
                // the type's decoded flags, not ftype's 8-bit compares: in front of
                // the response's set/reset pins they were a 100 MHz placement's worst path
                if (t_prompt)     push_ack(`TG_CMD_PROMPT, f_off, 16'd0, f_pcnt[7:0]);
                else if (t_write) push_ack(`TG_CMD_WRITE, {2'b00, f_mem}, f_addr, f_words);
                else              push_ack(ftype, 8'd0, f_n, 8'd0);   // GENERATE / BENCH started
            end
            default: state <= E_IDLE;
            endcase
        end
        if (rst) begin
            state <= E_IDLE;
            cmd_resp_valid <= 1'b0;
            cmd_error <= 1'b0;
            core_prompt_we <= 1'b0;
            core_wr_en <= 1'b0;
            core_start <= 1'b0;
        end

        // run control
        if (rst) begin
            run <= 1'b0;
            bench <= 1'b0;
            done_seen <= 1'b0;
            stop_req <= 1'b0;
            core_stop <= 1'b0;
        end else begin
            if (run_start) begin
                run <= 1'b1;
                bench <= ftype == `TG_CMD_BENCH;
                done_seen <= 1'b0;
                stop_req <= 1'b0;
            end else if (run && core_done) begin
                done_seen <= 1'b1;
            end
            core_stop <= run && stop_req && !done_seen && !core_done;
            if (end_sent)
                run <= 1'b0;
        end
    end

endmodule

/* verilator lint_on PROCASSINIT */
`default_nettype wire
