// Framed command protocol between a host (over a UART byte stream) and the
// tritgpt core: the device side of docs/protocol.md. Its numbers (frame types,
// error codes, lengths, memory ids) come from tritgpt_proto_defs.vh, which
// tritgpt/link/protocol.py generates.
//
//   rx bytes -> receive FIFO -> tritgpt_proto_rx   (sync hunt, type/length checks,
//                                                   CRC-16, partial-frame timeout)
//            -> frame (valid/ready) -> tritgpt_proto_exec (prompt/weight writes,
//                                                   start/stop, run state)
//            -> response queue (valid/ready) -> tritgpt_proto_tx -> tx bytes
//   core tokens (valid/ready) ------------------------^ (token FIFO, TOKENS/END)
//
// Every frame: A5 | type | len | payload[len] | crc_hi | crc_lo, where the
// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) covers type, len and payload.
// A command is executed only after its CRC has been checked.

`default_nettype none
// Registers start from their declared values when the FPGA is configured (and
// are reset where a restart needs it): Verilator's PROCASSINIT style warning is
// about exactly that idiom, so it is off in this file.
/* verilator lint_off PROCASSINIT */

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
    output wire        core_prompt_we,
    output wire [7:0]  core_prompt_addr,
    output wire [7:0]  core_prompt_data,
    output wire        core_start,
    output wire [8:0]  core_prompt_len,
    output wire [15:0] core_n_tokens,
    output wire [15:0] core_tinv,
    output wire [31:0] core_seed,
    output wire        core_stop,
    input  wire        core_busy,
    input  wire        core_done,
    input  wire [7:0]  core_tok_data,
    input  wire        core_tok_valid,
    output wire        core_tok_ready,
    input  wire [31:0] core_cycle_count,
    input  wire [15:0] core_tok_count,
    input  wire [63:0] core_model_hash,
    output wire        core_wr_en,
    output wire [5:0]  core_wr_mem,
    output wire [15:0] core_wr_addr,
    output wire [31:0] core_wr_data,

    // status
    output wire        idle,          // no run, no frame in progress, nothing to send
    output wire        running,       // a generate/bench run is in progress
    output wire        error_pulse    // an ERROR frame was queued
);

    localparam RESP_LOG2 = 3;

    // ------------------------------------------------------------------
    // receive FIFO
    // ------------------------------------------------------------------
    wire       rxf_full, rxf_empty, rxf_pop;
    wire [7:0] rxf_dout;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [RX_FIFO_LOG2:0] rxf_count;
    /* verilator lint_on UNUSEDSIGNAL */

    tritgpt_proto_fifo #(.WIDTH(8), .LOG2(RX_FIFO_LOG2)) u_rxf (
        .clk(clk), .rst(rst),
        .din(rx_tdata), .push(rx_tvalid), .full(rxf_full),
        .dout(rxf_dout), .pop(rxf_pop), .empty(rxf_empty), .count(rxf_count)
    );
    assign rx_tready = !rxf_full;

    // The receiver holds each byte in a register of its own (with the byte's
    // decoded class), so its byte-valid is a flip-flop and not the FIFO's pointer
    // compare: the pointer arithmetic and the receiver's cycle were one path.
    wire       rx_load;
    assign rxf_pop = rx_load && !rxf_empty;

    // ------------------------------------------------------------------
    // response queue (tritgpt_proto_exec -> tritgpt_proto_tx)
    // ------------------------------------------------------------------
    wire        rx_err_valid;
    wire [7:0]  rx_err_code, rx_err_detail;
    wire        resp_push;
    wire [41:0] resp_din;
    wire [41:0] resp_dout;
    wire        resp_empty, resp_pop;
    /* verilator lint_off UNUSEDSIGNAL */
    wire        resp_full_unused;
    /* verilator lint_on UNUSEDSIGNAL */
    wire [RESP_LOG2:0] resp_count;

    tritgpt_proto_fifo #(.WIDTH(42), .LOG2(RESP_LOG2)) u_resp (
        .clk(clk), .rst(rst),
        .din(resp_din), .push(resp_push), .full(resp_full_unused),
        .dout(resp_dout), .pop(resp_pop), .empty(resp_empty), .count(resp_count)
    );
    // Room for this cycle's push and last cycle's (both registered), itself a
    // register: from last cycle's count, so one more entry is kept free.
    reg resp_room = 1'b1;
    always @(posedge clk)
        resp_room <= resp_count < (1 << RESP_LOG2) - 2;

    // ------------------------------------------------------------------
    // frame receive -> execute -> frame transmit
    // ------------------------------------------------------------------
    wire        frame_valid, frame_ready;
    wire [7:0]  frame_type, frame_len;
    wire [79:0] frame_fields;
    wire [7:0]  pay_raddr, pay_rdata;
    wire        rx_hunting, exec_idle, tx_idle;
    wire        run_start, run, bench, done_seen, stop_req, end_sent;

    tritgpt_proto_rx #(.TIMEOUT_CYCLES(TIMEOUT_CYCLES)) u_rx (
        .clk(clk), .rst(rst),
        .s_tdata(rxf_dout), .s_tvalid(!rxf_empty), .s_tready(rx_load),
        .rx_overrun(rx_overrun), .rx_frame_error(rx_frame_error),
        .m_frame_valid(frame_valid), .m_frame_ready(frame_ready),
        .m_frame_type(frame_type), .m_frame_len(frame_len), .m_frame_fields(frame_fields),
        .pay_raddr(pay_raddr), .pay_rdata(pay_rdata),
        .err_valid(rx_err_valid), .err_code(rx_err_code), .err_detail(rx_err_detail),
        .err_room(resp_room),
        .hunting(rx_hunting)
    );

    tritgpt_proto_exec #(.CONTEXT(CONTEXT)) u_exec (
        .clk(clk), .rst(rst),
        .s_frame_valid(frame_valid), .s_frame_ready(frame_ready),
        .s_frame_type(frame_type), .s_frame_len(frame_len), .s_frame_fields(frame_fields),
        .pay_raddr(pay_raddr), .pay_rdata(pay_rdata),
        .s_err_valid(rx_err_valid), .s_err_code(rx_err_code), .s_err_detail(rx_err_detail),
        .resp_valid(resp_push), .resp_data(resp_din), .resp_room(resp_room),
        .error_pulse(error_pulse),
        .core_prompt_we(core_prompt_we), .core_prompt_addr(core_prompt_addr),
        .core_prompt_data(core_prompt_data), .core_start(core_start),
        .core_prompt_len(core_prompt_len), .core_n_tokens(core_n_tokens), .core_tinv(core_tinv),
        .core_seed(core_seed), .core_stop(core_stop), .core_busy(core_busy), .core_done(core_done),
        .core_wr_en(core_wr_en), .core_wr_mem(core_wr_mem), .core_wr_addr(core_wr_addr),
        .core_wr_data(core_wr_data),
        .run_start(run_start), .run(run), .bench(bench), .done_seen(done_seen), .stop_req(stop_req),
        .end_sent(end_sent),
        .idle(exec_idle)
    );

    tritgpt_proto_tx #(
        .CLK_HZ(CLK_HZ), .BAUD(BAUD), .CONTEXT(CONTEXT), .VOCAB(VOCAB), .D_MODEL(D_MODEL),
        .N_HEADS(N_HEADS), .D_FF(D_FF), .N_LAYERS(N_LAYERS), .LANES(LANES),
        .FW_VERSION(FW_VERSION), .TOK_FIFO_LOG2(TOK_FIFO_LOG2)
    ) u_tx (
        .clk(clk), .rst(rst),
        .s_resp_data(resp_dout), .s_resp_valid(!resp_empty), .s_resp_ready(resp_pop),
        .core_tok_data(core_tok_data), .core_tok_valid(core_tok_valid), .core_tok_ready(core_tok_ready),
        .core_busy(core_busy), .core_cycle_count(core_cycle_count), .core_tok_count(core_tok_count),
        .core_model_hash(core_model_hash),
        .run_start(run_start), .run(run), .bench(bench), .done_seen(done_seen), .stop_req(stop_req),
        .end_sent(end_sent),
        .m_tdata(tx_tdata), .m_tvalid(tx_tvalid), .m_tready(tx_tready),
        .idle(tx_idle)
    );

    assign running = run;
    assign idle = !run && rx_hunting && exec_idle && tx_idle && resp_empty && !resp_push && rxf_empty;

endmodule

/* verilator lint_on PROCASSINIT */
`default_nettype wire
