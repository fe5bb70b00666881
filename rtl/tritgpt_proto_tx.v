// Frame transmit: queued responses and the core's tokens -> framed bytes.
//
// Sends, in this order of priority: a queued response entry (ACK, ERROR, or
// IDENT built from live state), a TOKENS frame of up to TG_MAX_BATCH tokens from
// the token FIFO, and the run's END frame once the core is done and every token
// has gone. Tokens come from the core on core_tok_* (valid/ready: the FIFO
// back-pressures the core; in a BENCH run they are counted, not sent). Every
// frame: sync | type | len | payload | crc_hi | crc_lo, CRC-16 over type..payload.

`default_nettype none
// Registers start from their declared values when the FPGA is configured (and
// are reset where a restart needs it): Verilator's PROCASSINIT style warning is
// about exactly that idiom, so it is off in this file.
/* verilator lint_off PROCASSINIT */

`include "tritgpt_proto_defs.vh"

module tritgpt_proto_tx #(
    // reported by IDENTIFY
    parameter CLK_HZ = 100_000_000,
    parameter BAUD = 115200,
    parameter CONTEXT = 128,
    parameter VOCAB = 128,
    parameter D_MODEL = 64,
    parameter N_HEADS = 2,
    parameter D_FF = 256,
    parameter N_LAYERS = 2,
    parameter LANES = 256,
    parameter [15:0] FW_VERSION = 16'h0100,
    parameter TOK_FIFO_LOG2 = 6
) (
    input  wire        clk,
    input  wire        rst,

    // response entries from the response queue (tritgpt_proto_exec's format)
    input  wire [41:0] s_resp_data,
    input  wire        s_resp_valid,
    output wire        s_resp_ready,

    // tokens from tritgpt_core
    input  wire [7:0]  core_tok_data,
    input  wire        core_tok_valid,
    output wire        core_tok_ready,

    // core status (IDENT and END payloads)
    input  wire        core_busy,
    input  wire [31:0] core_cycle_count,
    input  wire [15:0] core_tok_count,
    input  wire [63:0] core_model_hash,

    // the run (tritgpt_proto_exec)
    input  wire        run_start,
    input  wire        run,
    input  wire        bench,
    input  wire        done_seen,
    input  wire        stop_req,
    output wire        end_sent,

    // to uart_tx
    output wire [7:0]  m_tdata,
    output wire        m_tvalid,
    input  wire        m_tready,

    output wire        idle                 // no frame being sent
);

    localparam [1:0] K_ACK = 2'd0, K_ERR = 2'd1;
    localparam [31:0] CLK_HZ_W = CLK_HZ;
    localparam [31:0] BAUD_W = BAUD;
    localparam [15:0] CONTEXT_W = CONTEXT;
    localparam [15:0] D_MODEL_W = D_MODEL;
    localparam [15:0] D_FF_W = D_FF;
    localparam [15:0] LANES_W = LANES;
    localparam [7:0] VOCAB_W = VOCAB;
    localparam [7:0] N_HEADS_W = N_HEADS;
    localparam [7:0] N_LAYERS_W = N_LAYERS;

    // ------------------------------------------------------------------
    // token FIFO (core -> TOKENS frames), CRC and count of the run's tokens
    // ------------------------------------------------------------------
    wire       tokf_full, tokf_empty;
    wire [7:0] tokf_dout;
    wire [TOK_FIFO_LOG2:0] tokf_count;
    wire       tokf_pop;
    reg [15:0] tok_total = 16'd0; // tokens taken from the core in this run
    reg [15:0] tok_crc = 16'hFFFF;

    assign core_tok_ready = run && !done_seen && (bench || !tokf_full);
    wire tok_take = core_tok_valid && core_tok_ready;

    tritgpt_proto_fifo #(.WIDTH(8), .LOG2(TOK_FIFO_LOG2)) u_tokf (
        .clk(clk), .rst(rst),
        .din(core_tok_data), .push(tok_take && !bench), .full(tokf_full),
        .dout(tokf_dout), .pop(tokf_pop), .empty(tokf_empty), .count(tokf_count)
    );

    wire [15:0] tok_crc_next;
    tritgpt_crc16 u_tok_crc (.crc_in(tok_crc), .data(core_tok_data), .crc_out(tok_crc_next));

    always @(posedge clk) begin
        if (!rst) begin
            if (run_start) begin
                tok_total <= 16'd0;
                tok_crc <= 16'hFFFF;
            end else if (tok_take) begin
                tok_total <= tok_total + 16'd1;
                tok_crc <= tok_crc_next;
            end
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
    reg [7:0]  tbyte;
    // the run's span: cycles since it started, stalls included; latched when END's sync
    // byte goes to the UART, i.e. once the last TOKENS frame's last bit has left
    reg [31:0] run_span = 32'd0;
    reg [31:0] end_span = 32'd0;

    wire [7:0] t_b0 = tent[39:32];
    wire [7:0] t_b1 = tent[31:24];
    wire [15:0] t_b2 = tent[23:8];
    wire [7:0] t_b3 = tent[7:0];

    reg [7:0] ident_byte;
    always @* begin
        case (tidx)
        8'd0:  ident_byte = `TG_PROTO_VERSION;
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
        8'd31: ident_byte = `TG_MAX_WRITE_WORDS;
        8'd32: ident_byte = core_tok_count[7:0];
        8'd33: ident_byte = core_tok_count[15:8];
        8'd34: ident_byte = core_cycle_count[7:0];
        8'd35: ident_byte = core_cycle_count[15:8];
        8'd36: ident_byte = core_cycle_count[23:16];
        default: ident_byte = core_cycle_count[31:24];
        endcase
    end

    // Each response type's byte at tidx, registered (stage 1), then the type's
    // byte (stage 2, pay_r): the 38-way index mux and the type mux together, in
    // front of the CRC and the UART's shift register, were 9 LUT levels. A byte
    // is offered two cycles after the previous one is taken (`fresh`), which the
    // UART's 10 bit times per byte hide.
    // ACK and END payloads as byte vectors, byte i at [8i +: 8]; an index past
    // the end reads the last byte
    wire [8*5-1:0]  ack_bytes = {t_b3, t_b2, t_b1, t_b0};
    wire [8*13-1:0] end_bytes = {end_span, tok_crc, end_cycles, tok_total, end_status};
    wire [2:0]      ack_i = tidx > 8'd4 ? 3'd4 : tidx[2:0];
    wire [3:0]      end_i = tidx > 8'd12 ? 4'd12 : tidx[3:0];
    wire [7:0]      ack_byte = ack_bytes[ack_i*8 +: 8];
    wire [7:0]      end_byte = end_bytes[end_i*8 +: 8];
    reg  [7:0]      tok_byte;
    always @* begin
        case (tidx)
        8'd0: tok_byte = tok_seq[7:0];
        8'd1: tok_byte = tok_seq[15:8];
        default: tok_byte = tokf_dout;
        endcase
    end

    reg [7:0] ident_r = 8'd0, ack_r = 8'd0, err_r = 8'd0, tok_r = 8'd0, end_r = 8'd0;
    always @(posedge clk) begin
        ident_r <= ident_byte;
        ack_r <= ack_byte;
        err_r <= tidx == 8'd0 ? t_b0 : t_b1;
        tok_r <= tok_byte;
        end_r <= end_byte;
    end

    reg [7:0] pay_byte;
    always @* begin
        case (ttype)
        `TG_RSP_IDENT:  pay_byte = ident_r;
        `TG_RSP_ACK:    pay_byte = ack_r;
        `TG_RSP_ERROR:  pay_byte = err_r;
        `TG_RSP_TOKENS: pay_byte = tok_r;
        default:        pay_byte = end_r;   // END
        endcase
    end

    reg [7:0] pay_r = 8'd0;
    reg       fresh = 1'b0, fresh1 = 1'b0;
    always @(posedge clk) pay_r <= pay_byte;

    always @* begin
        case (tstate)
        T_SYNC:   tbyte = `TG_SYNC;
        T_TYPE:   tbyte = ttype;
        T_LEN:    tbyte = tlen;
        T_PAY:    tbyte = pay_r;
        T_CRC_HI: tbyte = tcrc[15:8];
        default:  tbyte = tcrc[7:0];
        endcase
    end

    assign m_tdata = tbyte;
    assign m_tvalid = tstate != T_IDLE && fresh;
    assign idle = tstate == T_IDLE;
    wire tx_take = m_tvalid && m_tready;
    always @(posedge clk) begin
        fresh1 <= !tx_take;
        fresh <= fresh1 && !tx_take;
    end

    wire [15:0] tcrc_next;
    tritgpt_crc16 u_frame_crc (.crc_in(tcrc), .data(tbyte), .crc_out(tcrc_next));

    wire [15:0] tokf_count16 = {{(15 - TOK_FIFO_LOG2){1'b0}}, tokf_count};
    // Tokens for the next TOKENS frame, a register: the FIFO's count, its clamp and
    // the frame length were a deep path into the frame's type and length. A cycle
    // old, it never exceeds the tokens queued: only this module's frames pop them.
    reg [7:0] batch = 8'd0;
    always @(posedge clk)
        batch <= tokf_count16 >= {8'd0, `TG_MAX_BATCH} ? `TG_MAX_BATCH : tokf_count16[7:0];

    // (no `!rst` term: the reset is the power-on reset, and the response queue is
    // empty from configuration until it ends)
    assign s_resp_ready = tstate == T_IDLE && s_resp_valid;
    assign tokf_pop = tx_take && tstate == T_PAY && ttype == `TG_RSP_TOKENS && tidx >= 8'd2;
    assign end_sent = tx_take && tstate == T_CRC_LO && ttype == `TG_RSP_END;

    always @(posedge clk) begin
        if (rst) begin
            tstate <= T_IDLE;
            tok_seq <= 16'd0;
        end else begin
            if (run_start)
                tok_seq <= 16'd0;
            if (run_start)
                run_span <= 32'd0;
            else if (run)
                run_span <= run_span + 32'd1;
            case (tstate)
            T_IDLE: begin
                tidx <= 8'd0;
                if (s_resp_valid) begin
                    tent <= s_resp_data;
                    case (s_resp_data[41:40])
                    K_ACK:   begin ttype <= `TG_RSP_ACK;   tlen <= `TG_ACK_LEN; end
                    K_ERR:   begin ttype <= `TG_RSP_ERROR; tlen <= `TG_ERROR_LEN; end
                    default: begin ttype <= `TG_RSP_IDENT; tlen <= `TG_IDENT_LEN; end
                    endcase
                    tstate <= T_SYNC;
                end else if (run && !bench && batch != 8'd0) begin
                    ttype <= `TG_RSP_TOKENS;
                    tlen <= batch + 8'd2;
                    tstate <= T_SYNC;
                end else if (run && done_seen && tokf_empty && !run_start) begin
                    ttype <= `TG_RSP_END;
                    tlen <= `TG_END_LEN;
                    end_cycles <= core_cycle_count;
                    end_status <= {6'd0, bench, stop_req};
                    tstate <= T_SYNC;
                end
            end
            T_SYNC: if (tx_take) begin
                if (ttype == `TG_RSP_END)
                    end_span <= run_span;
                tcrc <= 16'hFFFF;
                tstate <= T_TYPE;
            end
            T_TYPE: if (tx_take) begin
                tcrc <= tcrc_next;
                tstate <= T_LEN;
            end
            T_LEN: if (tx_take) begin
                tcrc <= tcrc_next;
                tstate <= T_PAY;
            end
            T_PAY: if (tx_take) begin
                tcrc <= tcrc_next;
                tidx <= tidx + 8'd1;
                if (ttype == `TG_RSP_TOKENS && tidx >= 8'd2)
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

endmodule

/* verilator lint_on PROCASSINIT */
`default_nettype wire
