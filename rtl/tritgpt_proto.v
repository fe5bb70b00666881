// Framed command protocol between a host (over a UART byte stream) and the
// tritgpt core. The protocol itself is specified in docs/protocol.md; this file
// implements the device side:
//
//   rx bytes -> RX FIFO -> parser (sync hunt, type/length checks, CRC-16,
//               partial-frame timeout) -> payload buffer -> command executor
//               (prompt/weight writes, start/stop) -> response queue
//   core tokens -> token FIFO (back-pressure: tok_ready) -> frame builder
//   response queue + token FIFO + end of run -> frame builder -> tx bytes
//
// Every frame: A5 | type | len | payload[len] | crc_hi | crc_lo, where the
// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) covers type, len and payload.
// A command is executed only after its CRC has been checked.

`default_nettype none

module tritgpt_proto #(
    parameter CLK_HZ = 100_000_000,
    parameter BAUD = 115200,
    // a partial frame is discarded after this many cycles without a byte
    parameter TIMEOUT_CYCLES = CLK_HZ / 50,
    // model configuration, reported by IDENTIFY and used to check arguments
    parameter CONTEXT = 128,
    parameter VOCAB = 128,
    parameter D_MODEL = 64,
    parameter N_HEADS = 2,
    parameter D_FF = 256,
    parameter N_LAYERS = 2,
    parameter LANES = 256,
    parameter [15:0] FW_VERSION = 16'h0100,
    parameter RX_FIFO_LOG2 = 6,
    parameter TOK_FIFO_LOG2 = 6
) (
    input  wire        clk,
    input  wire        rst,

    // from uart_rx
    input  wire [7:0]  rx_tdata,
    input  wire        rx_tvalid,
    output wire        rx_tready,
    input  wire        rx_overrun,
    input  wire        rx_frame_error,

    // to uart_tx
    output wire [7:0]  tx_tdata,
    output wire        tx_tvalid,
    input  wire        tx_tready,

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
    input  wire [7:0]  core_tok_data,
    input  wire        core_tok_valid,
    output wire        core_tok_ready,
    input  wire [31:0] core_cycle_count,
    input  wire [15:0] core_tok_count,
    input  wire [63:0] core_model_hash,
    output reg         core_wr_en = 1'b0,
    output reg  [5:0]  core_wr_mem = 6'd0,
    output reg  [15:0] core_wr_addr = 16'd0,
    output reg  [31:0] core_wr_data = 32'd0,

    // status
    output wire        idle,          // no run, no frame in progress, nothing to send
    output wire        running,       // a generate/bench run is in progress
    output reg         error_pulse = 1'b0   // an ERROR frame was queued
);

    // ------------------------------------------------------------------
    // protocol constants (docs/protocol.md)
    // ------------------------------------------------------------------
    localparam [7:0] SYNC = 8'hA5;
    localparam [7:0] PROTO_VERSION = 8'd1;

    localparam [7:0] C_IDENTIFY = 8'h01;
    localparam [7:0] C_GENERATE = 8'h02;
    localparam [7:0] C_PROMPT   = 8'h03;
    localparam [7:0] C_BENCH    = 8'h04;
    localparam [7:0] C_STOP     = 8'h05;
    localparam [7:0] C_WRITE    = 8'h06;

    localparam [7:0] R_IDENT  = 8'h81;
    localparam [7:0] R_ACK    = 8'h82;
    localparam [7:0] R_TOKENS = 8'h83;
    localparam [7:0] R_END    = 8'h84;
    localparam [7:0] R_ERROR  = 8'h85;

    localparam [7:0] E_BAD_CRC    = 8'h01;
    localparam [7:0] E_BAD_TYPE   = 8'h02;
    localparam [7:0] E_BAD_LENGTH = 8'h03;
    localparam [7:0] E_TIMEOUT    = 8'h04;
    localparam [7:0] E_BUSY       = 8'h05;
    localparam [7:0] E_BAD_ARG    = 8'h06;
    localparam [7:0] E_OVERRUN    = 8'h07;
    localparam [7:0] E_FRAMING    = 8'h08;
    localparam [7:0] E_GARBAGE    = 8'h09;

    localparam [7:0] IDENT_LEN = 8'd38;
    localparam [7:0] ACK_LEN = 8'd5;
    localparam [7:0] END_LEN = 8'd9;
    localparam [7:0] ERR_LEN = 8'd2;
    localparam [6:0] MAX_BATCH = 7'd32;     // tokens per TOKENS frame
    localparam [7:0] MAX_WRITE_WORDS = 8'd63;
    localparam [5:0] MAX_MEM = 6'd35;

    localparam [31:0] CLK_HZ_W = CLK_HZ;
    localparam [31:0] BAUD_W = BAUD;
    localparam [15:0] CONTEXT_W = CONTEXT;
    localparam [15:0] D_MODEL_W = D_MODEL;
    localparam [15:0] D_FF_W = D_FF;
    localparam [15:0] LANES_W = LANES;
    localparam [7:0] VOCAB_W = VOCAB;
    localparam [7:0] N_HEADS_W = N_HEADS;
    localparam [7:0] N_LAYERS_W = N_LAYERS;

    function [15:0] crc16_byte(input [15:0] c, input [7:0] d);
        integer i;
        reg [15:0] x;
        begin
            x = c ^ {d, 8'h00};
            for (i = 0; i < 8; i = i + 1)
                x = x[15] ? ({x[14:0], 1'b0} ^ 16'h1021) : {x[14:0], 1'b0};
            crc16_byte = x;
        end
    endfunction

    // ------------------------------------------------------------------
    // RX FIFO
    // ------------------------------------------------------------------
    wire       rxf_full, rxf_empty;
    wire [7:0] rxf_dout;
    wire       rxf_pop;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [RX_FIFO_LOG2:0] rxf_count;
    /* verilator lint_on UNUSEDSIGNAL */

    tritgpt_proto_fifo #(.WIDTH(8), .LOG2(RX_FIFO_LOG2)) u_rxf (
        .clk(clk), .rst(rst),
        .din(rx_tdata), .push(rx_tvalid), .full(rxf_full),
        .dout(rxf_dout), .pop(rxf_pop), .empty(rxf_empty), .count(rxf_count)
    );
    assign rx_tready = !rxf_full;

    // ------------------------------------------------------------------
    // response queue: {kind, b0, b1, b2[15:0], b3}
    //   ACK:   b0 = command, b1/b2/b3 = echo fields
    //   ERROR: b0 = code, b1 = detail
    //   IDENT: no fields (payload built from live state when sent)
    // ------------------------------------------------------------------
    localparam [1:0] K_ACK = 2'd0, K_ERR = 2'd1, K_IDENT = 2'd2;
    localparam RQ_LOG2 = 3;
    reg         rq_push = 1'b0;
    reg  [41:0] rq_din = 42'd0;
    wire [41:0] rq_dout;
    wire        rq_empty;
    /* verilator lint_off UNUSEDSIGNAL */
    wire        rq_full_unused;
    /* verilator lint_on UNUSEDSIGNAL */
    wire [RQ_LOG2:0] rq_count;
    reg         rq_pop;

    tritgpt_proto_fifo #(.WIDTH(42), .LOG2(RQ_LOG2)) u_rq (
        .clk(clk), .rst(rst),
        .din(rq_din), .push(rq_push), .full(rq_full_unused),
        .dout(rq_dout), .pop(rq_pop), .empty(rq_empty), .count(rq_count)
    );
    // room for this cycle's push and last cycle's (registered) push
    wire rq_room = rq_count < (1 << RQ_LOG2) - 1;

    // ------------------------------------------------------------------
    // token FIFO (core -> frame builder)
    // ------------------------------------------------------------------
    wire       tokf_full, tokf_empty;
    wire [7:0] tokf_dout;
    wire [TOK_FIFO_LOG2:0] tokf_count;
    reg        tokf_pop;

    reg        run = 1'b0;        // a run is in progress (until its END frame is sent)
    reg        bench = 1'b0;      // tokens are counted, not sent
    reg        done_seen = 1'b0;  // the core has finished this run
    reg        stop_req = 1'b0;   // STOP received during this run
    reg [15:0] tok_total = 16'd0; // tokens taken from the core in this run
    reg [15:0] tok_crc = 16'hFFFF;

    assign core_tok_ready = run && !done_seen && (bench || !tokf_full);
    wire tok_take = core_tok_valid && core_tok_ready;

    tritgpt_proto_fifo #(.WIDTH(8), .LOG2(TOK_FIFO_LOG2)) u_tokf (
        .clk(clk), .rst(rst),
        .din(core_tok_data), .push(tok_take && !bench), .full(tokf_full),
        .dout(tokf_dout), .pop(tokf_pop), .empty(tokf_empty), .count(tokf_count)
    );

    assign running = run;

    // ------------------------------------------------------------------
    // parser and command executor
    // ------------------------------------------------------------------
    localparam [3:0] P_HUNT = 4'd0, P_TYPE = 4'd1, P_LEN = 4'd2, P_PAYLOAD = 4'd3,
                     P_CRC_HI = 4'd4, P_CRC_LO = 4'd5, P_CHECK = 4'd6,
                     P_COPY_RD = 4'd7, P_COPY_WR = 4'd8, P_START = 4'd9,
                     P_WORD_RD = 4'd10, P_WORD_WR = 4'd11, P_ACK = 4'd12;

    reg [3:0]  pstate = P_HUNT;
    reg [7:0]  ftype = 8'd0;
    reg [7:0]  flen = 8'd0;
    reg [7:0]  pidx = 8'd0;
    reg [15:0] pcrc = 16'hFFFF;
    reg [7:0]  hdr [0:9];          // first 10 payload bytes (command fields)
    reg [7:0]  pbuf [0:255];       // whole payload
    reg [7:0]  rd_ptr = 8'd0;
    reg [7:0]  pbuf_q = 8'd0;
    reg [7:0]  remaining = 8'd0;   // bytes or words left to copy
    reg [7:0]  waddr = 8'd0;       // prompt write address
    reg [1:0]  wbyte = 2'd0;
    /* verilator lint_off UNUSEDSIGNAL */
    reg [31:0] wword = 32'd0;      // bits 7:0 are shifted out unused
    /* verilator lint_on UNUSEDSIGNAL */
    reg        garbage_reported = 1'b0;
    reg        ovr_pend = 1'b0;
    reg        ferr_pend = 1'b0;
    reg [31:0] tcount = 32'd0;

    always @(posedge clk)
        pbuf_q <= pbuf[rd_ptr];

    wire in_frame = pstate == P_TYPE || pstate == P_LEN || pstate == P_PAYLOAD ||
                    pstate == P_CRC_HI || pstate == P_CRC_LO;
    // one byte per cycle while receiving, if an error could be queued for it
    assign rxf_pop = !rxf_empty && rq_room && !rst &&
                     (in_frame || (pstate == P_HUNT && !ovr_pend && !ferr_pend));
    wire [7:0] b = rxf_dout;
    wire [15:0] pcrc_next = crc16_byte(pcrc, b);

    wire type_ok = b == C_IDENTIFY || b == C_GENERATE || b == C_PROMPT ||
                   b == C_BENCH || b == C_STOP || b == C_WRITE;
    reg len_ok;
    always @* begin
        case (ftype)
        C_IDENTIFY, C_STOP:   len_ok = b == 8'd0;
        C_GENERATE, C_BENCH:  len_ok = b >= 8'd10;
        C_PROMPT:             len_ok = b >= 8'd2;
        C_WRITE:              len_ok = b >= 8'd7 && b[1:0] == 2'd3;
        default:              len_ok = 1'b0;
        endcase
    end

    // decoded command fields
    wire [15:0] f_n     = {hdr[1], hdr[0]};
    wire [15:0] f_tinv  = {hdr[3], hdr[2]};
    wire [31:0] f_seed  = {hdr[7], hdr[6], hdr[5], hdr[4]};
    wire [15:0] f_plen  = {hdr[9], hdr[8]};
    wire [7:0]  f_tail  = flen - 8'd10;            // inline prompt bytes (the prompt's tail)
    wire [7:0]  f_off   = hdr[0];                  // PROMPT offset
    wire [8:0]  f_pcnt  = {1'b0, flen} - 9'd1;     // PROMPT byte count
    wire [5:0]  f_mem   = hdr[0][5:0];
    wire [15:0] f_addr  = {hdr[2], hdr[1]};
    wire [7:0]  f_words = {2'b00, flen[7:2]};      // (len - 3) / 4 for len = 3 mod 4
    wire        busy_now = run || core_busy;

    wire gen_args_ok = f_n != 16'd0 && f_plen != 16'd0 && f_plen <= CONTEXT_W &&
                       {8'd0, f_tail} <= f_plen;
    wire prompt_args_ok = {1'b0, f_off} + f_pcnt <= {1'b0, CONTEXT_W[8:0]} &&
                          CONTEXT_W <= 16'd256;
    wire write_args_ok = hdr[0] <= {2'b00, MAX_MEM} &&
                         {1'b0, f_addr} + {9'd0, f_words} <= 17'h10000;

    task push_err(input [7:0] code, input [7:0] detail);
        begin
            rq_push <= 1'b1;
            rq_din <= {K_ERR, code, detail, 16'd0, 8'd0};
            error_pulse <= 1'b1;
        end
    endtask

    task push_ack(input [7:0] cmd, input [7:0] a, input [15:0] bb, input [7:0] c);
        begin
            rq_push <= 1'b1;
            rq_din <= {K_ACK, cmd, a, bb, c};
        end
    endtask

    always @(posedge clk) begin
        rq_push <= 1'b0;
        error_pulse <= 1'b0;
        core_prompt_we <= 1'b0;
        core_wr_en <= 1'b0;
        core_start <= 1'b0;
        if (rx_overrun) ovr_pend <= 1'b1;
        if (rx_frame_error) ferr_pend <= 1'b1;

        if (rxf_pop || !in_frame)
            tcount <= 32'd0;
        else
            tcount <= tcount + 32'd1;

        if (rst) begin
            pstate <= P_HUNT;
            garbage_reported <= 1'b0;
            ovr_pend <= 1'b0;
            ferr_pend <= 1'b0;
        end else begin
            case (pstate)
            P_HUNT: begin
                if (ovr_pend && rq_room) begin
                    push_err(E_OVERRUN, 8'd0);
                    ovr_pend <= 1'b0;
                end else if (ferr_pend && rq_room) begin
                    push_err(E_FRAMING, 8'd0);
                    ferr_pend <= 1'b0;
                end else if (rxf_pop) begin
                    if (b == SYNC) begin
                        pstate <= P_TYPE;
                        garbage_reported <= 1'b0;
                    end else if (!garbage_reported) begin
                        push_err(E_GARBAGE, b);
                        garbage_reported <= 1'b1;
                    end
                end
            end
            P_TYPE: if (rxf_pop) begin
                pcrc <= crc16_byte(16'hFFFF, b);
                ftype <= b;
                if (b == SYNC) begin
                    pstate <= P_TYPE;             // repeated sync byte
                end else if (!type_ok) begin
                    push_err(E_BAD_TYPE, b);
                    pstate <= P_HUNT;
                end else begin
                    pstate <= P_LEN;
                end
            end
            P_LEN: if (rxf_pop) begin
                pcrc <= pcrc_next;
                flen <= b;
                pidx <= 8'd0;
                if (!len_ok) begin
                    push_err(E_BAD_LENGTH, ftype);
                    pstate <= P_HUNT;
                end else begin
                    pstate <= b == 8'd0 ? P_CRC_HI : P_PAYLOAD;
                end
            end
            P_PAYLOAD: if (rxf_pop) begin
                pcrc <= pcrc_next;
                pbuf[pidx] <= b;
                if (pidx < 8'd10)
                    hdr[pidx[3:0]] <= b;
                pidx <= pidx + 8'd1;
                if (pidx == flen - 8'd1)
                    pstate <= P_CRC_HI;
            end
            P_CRC_HI: if (rxf_pop) begin
                pcrc <= pcrc_next;
                pstate <= P_CRC_LO;
            end
            P_CRC_LO: if (rxf_pop) begin
                pcrc <= pcrc_next;
                pstate <= P_CHECK;
            end
            P_CHECK: if (rq_room) begin
                // pcrc is now the CRC over type..crc_lo: zero when intact
                pstate <= P_HUNT;
                if (pcrc != 16'd0) begin
                    push_err(E_BAD_CRC, ftype);
                end else begin
                    case (ftype)
                    C_IDENTIFY: begin
                        rq_push <= 1'b1;
                        rq_din <= {K_IDENT, 40'd0};
                    end
                    C_STOP: begin
                        push_ack(C_STOP, {7'd0, run}, 16'd0, 8'd0);
                        if (run && !done_seen)
                            stop_req <= 1'b1;
                    end
                    C_PROMPT: begin
                        if (busy_now) begin
                            push_err(E_BUSY, ftype);
                        end else if (!prompt_args_ok) begin
                            push_err(E_BAD_ARG, ftype);
                        end else begin
                            rd_ptr <= 8'd1;
                            waddr <= f_off;
                            remaining <= f_pcnt[7:0];
                            pstate <= P_COPY_RD;
                        end
                    end
                    C_GENERATE, C_BENCH: begin
                        if (busy_now) begin
                            push_err(E_BUSY, ftype);
                        end else if (!gen_args_ok) begin
                            push_err(E_BAD_ARG, ftype);
                        end else begin
                            rd_ptr <= 8'd10;
                            waddr <= f_plen[7:0] - f_tail;
                            remaining <= f_tail;
                            pstate <= f_tail == 8'd0 ? P_START : P_COPY_RD;
                        end
                    end
                    C_WRITE: begin
                        if (busy_now) begin
                            push_err(E_BUSY, ftype);
                        end else if (!write_args_ok) begin
                            push_err(E_BAD_ARG, ftype);
                        end else begin
                            rd_ptr <= 8'd3;
                            core_wr_mem <= f_mem;
                            core_wr_addr <= f_addr - 16'd1;
                            remaining <= f_words;
                            wbyte <= 2'd0;
                            pstate <= P_WORD_RD;
                        end
                    end
                    default: push_err(E_BAD_TYPE, ftype);
                    endcase
                end
            end
            // prompt bytes -> core history buffer, 2 cycles per byte
            P_COPY_RD: pstate <= P_COPY_WR;
            P_COPY_WR: begin
                core_prompt_we <= 1'b1;
                core_prompt_addr <= waddr;
                core_prompt_data <= pbuf_q;
                waddr <= waddr + 8'd1;
                rd_ptr <= rd_ptr + 8'd1;
                remaining <= remaining - 8'd1;
                if (remaining == 8'd1)
                    pstate <= ftype == C_PROMPT ? P_ACK : P_START;
                else
                    pstate <= P_COPY_RD;
            end
            P_START: begin
                core_start <= 1'b1;
                core_prompt_len <= f_plen[8:0];
                core_n_tokens <= f_n;
                core_tinv <= f_tinv;
                core_seed <= f_seed;
                pstate <= P_ACK;
            end
            // weight words (little-endian bytes) -> core write port, 2 cycles per byte
            P_WORD_RD: pstate <= P_WORD_WR;
            P_WORD_WR: begin
                wword <= {pbuf_q, wword[31:8]};
                rd_ptr <= rd_ptr + 8'd1;
                wbyte <= wbyte + 2'd1;
                pstate <= P_WORD_RD;
                if (wbyte == 2'd3) begin
                    core_wr_en <= 1'b1;
                    core_wr_data <= {pbuf_q, wword[31:8]};
                    core_wr_addr <= core_wr_addr + 16'd1;
                    remaining <= remaining - 8'd1;
                    if (remaining == 8'd1)
                        pstate <= P_ACK;
                end
            end
            P_ACK: begin
                pstate <= P_HUNT;
                case (ftype)
                C_PROMPT:  push_ack(C_PROMPT, f_off, 16'd0, f_pcnt[7:0]);
                C_WRITE:   push_ack(C_WRITE, {2'b00, f_mem}, f_addr, f_words);
                default:   push_ack(ftype, 8'd0, f_n, 8'd0);   // GENERATE / BENCH started
                endcase
            end
            default: pstate <= P_HUNT;
            endcase

            // partial frame timeout (checked last: overrides the state above)
            if (in_frame && !rxf_pop && tcount >= TIMEOUT_CYCLES - 1 && rq_room) begin
                push_err(E_TIMEOUT, pstate == P_TYPE ? 8'd0 : ftype);
                pstate <= P_HUNT;
            end
        end

        // run control
        if (rst) begin
            run <= 1'b0;
            bench <= 1'b0;
            done_seen <= 1'b0;
            stop_req <= 1'b0;
            core_stop <= 1'b0;
        end else begin
            if (pstate == P_START) begin
                run <= 1'b1;
                bench <= ftype == C_BENCH;
                done_seen <= 1'b0;
                stop_req <= 1'b0;
                tok_total <= 16'd0;
                tok_crc <= 16'hFFFF;
            end else begin
                if (tok_take) begin
                    tok_total <= tok_total + 16'd1;
                    tok_crc <= crc16_byte(tok_crc, core_tok_data);
                end
                if (run && core_done)
                    done_seen <= 1'b1;
            end
            core_stop <= run && stop_req && !done_seen && !core_done;
            if (end_sent)
                run <= 1'b0;
        end
    end

    // ------------------------------------------------------------------
    // frame builder
    // ------------------------------------------------------------------
    localparam [2:0] T_IDLE = 3'd0, T_SYNC = 3'd1, T_TYPE = 3'd2, T_LEN = 3'd3,
                     T_PAY = 3'd4, T_CRC_HI = 3'd5, T_CRC_LO = 3'd6;
    reg [2:0]  tstate = T_IDLE;
    reg [7:0]  ttype = 8'd0;
    reg [7:0]  tlen = 8'd0;
    reg [7:0]  tidx = 8'd0;
    reg [15:0] tcrc = 16'hFFFF;
    /* verilator lint_off UNUSEDSIGNAL */
    reg [41:0] tent = 42'd0;       // the response being sent (kind not needed once latched)
    /* verilator lint_on UNUSEDSIGNAL */
    reg [15:0] tok_seq = 16'd0;    // index of the next token to frame
    reg [31:0] end_cycles = 32'd0;
    reg [7:0]  end_status = 8'd0;
    reg        end_sent;
    reg [7:0]  tbyte;

    wire [7:0] t_b0 = tent[39:32];
    wire [7:0] t_b1 = tent[31:24];
    wire [15:0] t_b2 = tent[23:8];
    wire [7:0] t_b3 = tent[7:0];

    reg [7:0] ident_byte;
    always @* begin
        case (tidx)
        8'd0:  ident_byte = PROTO_VERSION;
        8'd1:  ident_byte = FW_VERSION[7:0];
        8'd2:  ident_byte = FW_VERSION[15:8];
        8'd3:  ident_byte = core_model_hash[63:56];
        8'd4:  ident_byte = core_model_hash[55:48];
        8'd5:  ident_byte = core_model_hash[47:40];
        8'd6:  ident_byte = core_model_hash[39:32];
        8'd7:  ident_byte = core_model_hash[31:24];
        8'd8:  ident_byte = core_model_hash[23:16];
        8'd9:  ident_byte = core_model_hash[15:8];
        8'd10: ident_byte = core_model_hash[7:0];
        8'd11: ident_byte = CLK_HZ_W[7:0];
        8'd12: ident_byte = CLK_HZ_W[15:8];
        8'd13: ident_byte = CLK_HZ_W[23:16];
        8'd14: ident_byte = CLK_HZ_W[31:24];
        8'd15: ident_byte = BAUD_W[7:0];
        8'd16: ident_byte = BAUD_W[15:8];
        8'd17: ident_byte = BAUD_W[23:16];
        8'd18: ident_byte = BAUD_W[31:24];
        8'd19: ident_byte = VOCAB_W;
        8'd20: ident_byte = N_LAYERS_W;
        8'd21: ident_byte = N_HEADS_W;
        8'd22: ident_byte = D_MODEL_W[7:0];
        8'd23: ident_byte = D_MODEL_W[15:8];
        8'd24: ident_byte = D_FF_W[7:0];
        8'd25: ident_byte = D_FF_W[15:8];
        8'd26: ident_byte = CONTEXT_W[7:0];
        8'd27: ident_byte = CONTEXT_W[15:8];
        8'd28: ident_byte = LANES_W[7:0];
        8'd29: ident_byte = LANES_W[15:8];
        8'd30: ident_byte = {5'd0, bench, core_busy, run};
        8'd31: ident_byte = MAX_WRITE_WORDS;
        8'd32: ident_byte = core_tok_count[7:0];
        8'd33: ident_byte = core_tok_count[15:8];
        8'd34: ident_byte = core_cycle_count[7:0];
        8'd35: ident_byte = core_cycle_count[15:8];
        8'd36: ident_byte = core_cycle_count[23:16];
        default: ident_byte = core_cycle_count[31:24];
        endcase
    end

    reg [7:0] pay_byte;
    always @* begin
        case (ttype)
        R_IDENT: pay_byte = ident_byte;
        R_ACK: case (tidx)
            8'd0: pay_byte = t_b0;
            8'd1: pay_byte = t_b1;
            8'd2: pay_byte = t_b2[7:0];
            8'd3: pay_byte = t_b2[15:8];
            default: pay_byte = t_b3;
            endcase
        R_ERROR: pay_byte = tidx == 8'd0 ? t_b0 : t_b1;
        R_TOKENS: case (tidx)
            8'd0: pay_byte = tok_seq[7:0];
            8'd1: pay_byte = tok_seq[15:8];
            default: pay_byte = tokf_dout;
            endcase
        default: case (tidx)   // R_END
            8'd0: pay_byte = end_status;
            8'd1: pay_byte = tok_total[7:0];
            8'd2: pay_byte = tok_total[15:8];
            8'd3: pay_byte = end_cycles[7:0];
            8'd4: pay_byte = end_cycles[15:8];
            8'd5: pay_byte = end_cycles[23:16];
            8'd6: pay_byte = end_cycles[31:24];
            8'd7: pay_byte = tok_crc[7:0];
            default: pay_byte = tok_crc[15:8];
            endcase
        endcase
    end

    always @* begin
        case (tstate)
        T_SYNC:   tbyte = SYNC;
        T_TYPE:   tbyte = ttype;
        T_LEN:    tbyte = tlen;
        T_PAY:    tbyte = pay_byte;
        T_CRC_HI: tbyte = tcrc[15:8];
        default:  tbyte = tcrc[7:0];
        endcase
    end

    assign tx_tdata = tbyte;
    assign tx_tvalid = tstate != T_IDLE;
    wire tx_take = tx_tvalid && tx_tready;

    wire [15:0] tokf_count16 = {{(15 - TOK_FIFO_LOG2){1'b0}}, tokf_count};
    wire [7:0] batch = tokf_count16 >= {9'd0, MAX_BATCH} ? {1'b0, MAX_BATCH} : tokf_count16[7:0];

    always @* begin
        rq_pop = tstate == T_IDLE && !rq_empty && !rst;
        tokf_pop = tx_take && tstate == T_PAY && ttype == R_TOKENS && tidx >= 8'd2;
        end_sent = tx_take && tstate == T_CRC_LO && ttype == R_END;
    end

    always @(posedge clk) begin
        if (rst) begin
            tstate <= T_IDLE;
            tok_seq <= 16'd0;
        end else begin
            if (pstate == P_START)
                tok_seq <= 16'd0;
            case (tstate)
            T_IDLE: begin
                tidx <= 8'd0;
                if (!rq_empty) begin
                    tent <= rq_dout;
                    case (rq_dout[41:40])
                    K_ACK:   begin ttype <= R_ACK;   tlen <= ACK_LEN; end
                    K_ERR:   begin ttype <= R_ERROR; tlen <= ERR_LEN; end
                    default: begin ttype <= R_IDENT; tlen <= IDENT_LEN; end
                    endcase
                    tstate <= T_SYNC;
                end else if (run && !bench && !tokf_empty) begin
                    ttype <= R_TOKENS;
                    tlen <= batch + 8'd2;
                    tstate <= T_SYNC;
                end else if (run && done_seen && tokf_empty && pstate != P_START) begin
                    ttype <= R_END;
                    tlen <= END_LEN;
                    end_cycles <= core_cycle_count;
                    end_status <= {6'd0, bench, stop_req};
                    tstate <= T_SYNC;
                end
            end
            T_SYNC: if (tx_take) begin
                tcrc <= 16'hFFFF;
                tstate <= T_TYPE;
            end
            T_TYPE: if (tx_take) begin
                tcrc <= crc16_byte(tcrc, tbyte);
                tstate <= T_LEN;
            end
            T_LEN: if (tx_take) begin
                tcrc <= crc16_byte(tcrc, tbyte);
                tstate <= T_PAY;
            end
            T_PAY: if (tx_take) begin
                tcrc <= crc16_byte(tcrc, tbyte);
                tidx <= tidx + 8'd1;
                if (ttype == R_TOKENS && tidx >= 8'd2)
                    tok_seq <= tok_seq + 16'd1;
                if (tidx == tlen - 8'd1)
                    tstate <= T_CRC_HI;
            end
            T_CRC_HI: if (tx_take) tstate <= T_CRC_LO;
            T_CRC_LO: if (tx_take) tstate <= T_IDLE;
            default: tstate <= T_IDLE;
            endcase
        end
    end

    assign idle = !run && pstate == P_HUNT && tstate == T_IDLE && rq_empty && !rq_push &&
                  rxf_empty;

endmodule


// First-word-fall-through FIFO, 2**LOG2 entries.
module tritgpt_proto_fifo #(
    parameter WIDTH = 8,
    parameter LOG2 = 6
) (
    input  wire             clk,
    input  wire             rst,
    input  wire [WIDTH-1:0] din,
    input  wire             push,
    output wire             full,
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

`default_nettype wire
