// TEST FIXTURE: uart_rx / uart_tx pairs at 115200, 1M, 3M and 12M baud from
// one 100 MHz clock, for tests/cocotb_uart.py (generated layout, kept simple).

`default_nettype none

module uart_tb #(parameter CLK_HZ = 100_000_000) (
    input  wire       clk,
    input  wire       rst,
    input  wire       rxd_a,
    output wire [7:0] rx_data_a,
    output wire       rx_valid_a,
    input  wire       rx_ready_a,
    output wire       rx_ferr_a,
    output wire       rx_ovr_a,
    output wire       txd_a,
    input  wire [7:0] tx_data_a,
    input  wire       tx_valid_a,
    output wire       tx_ready_a,
    input  wire       rxd_b,
    output wire [7:0] rx_data_b,
    output wire       rx_valid_b,
    input  wire       rx_ready_b,
    output wire       rx_ferr_b,
    output wire       rx_ovr_b,
    output wire       txd_b,
    input  wire [7:0] tx_data_b,
    input  wire       tx_valid_b,
    output wire       tx_ready_b,
    input  wire       rxd_c,
    output wire [7:0] rx_data_c,
    output wire       rx_valid_c,
    input  wire       rx_ready_c,
    output wire       rx_ferr_c,
    output wire       rx_ovr_c,
    output wire       txd_c,
    input  wire [7:0] tx_data_c,
    input  wire       tx_valid_c,
    output wire       tx_ready_c,
    input  wire       rxd_d,
    output wire [7:0] rx_data_d,
    output wire       rx_valid_d,
    input  wire       rx_ready_d,
    output wire       rx_ferr_d,
    output wire       rx_ovr_d,
    output wire       txd_d,
    input  wire [7:0] tx_data_d,
    input  wire       tx_valid_d,
    output wire       tx_ready_d
);

    // 115200 baud
    uart_rx #(.CLK_HZ(CLK_HZ), .BAUD(115200)) u_rx_a (
        .clk(clk), .rst(rst), .m_axis_tdata(rx_data_a), .m_axis_tvalid(rx_valid_a),
        .m_axis_tready(rx_ready_a), .rxd(rxd_a), .busy(),
        .overrun_error(rx_ovr_a), .frame_error(rx_ferr_a));
    uart_tx #(.CLK_HZ(CLK_HZ), .BAUD(115200)) u_tx_a (
        .clk(clk), .rst(rst), .s_axis_tdata(tx_data_a), .s_axis_tvalid(tx_valid_a),
        .s_axis_tready(tx_ready_a), .txd(txd_a), .busy());

    // 1000000 baud
    uart_rx #(.CLK_HZ(CLK_HZ), .BAUD(1000000)) u_rx_b (
        .clk(clk), .rst(rst), .m_axis_tdata(rx_data_b), .m_axis_tvalid(rx_valid_b),
        .m_axis_tready(rx_ready_b), .rxd(rxd_b), .busy(),
        .overrun_error(rx_ovr_b), .frame_error(rx_ferr_b));
    uart_tx #(.CLK_HZ(CLK_HZ), .BAUD(1000000)) u_tx_b (
        .clk(clk), .rst(rst), .s_axis_tdata(tx_data_b), .s_axis_tvalid(tx_valid_b),
        .s_axis_tready(tx_ready_b), .txd(txd_b), .busy());

    // 3000000 baud
    uart_rx #(.CLK_HZ(CLK_HZ), .BAUD(3000000)) u_rx_c (
        .clk(clk), .rst(rst), .m_axis_tdata(rx_data_c), .m_axis_tvalid(rx_valid_c),
        .m_axis_tready(rx_ready_c), .rxd(rxd_c), .busy(),
        .overrun_error(rx_ovr_c), .frame_error(rx_ferr_c));
    uart_tx #(.CLK_HZ(CLK_HZ), .BAUD(3000000)) u_tx_c (
        .clk(clk), .rst(rst), .s_axis_tdata(tx_data_c), .s_axis_tvalid(tx_valid_c),
        .s_axis_tready(tx_ready_c), .txd(txd_c), .busy());

    // 12000000 baud
    uart_rx #(.CLK_HZ(CLK_HZ), .BAUD(12000000)) u_rx_d (
        .clk(clk), .rst(rst), .m_axis_tdata(rx_data_d), .m_axis_tvalid(rx_valid_d),
        .m_axis_tready(rx_ready_d), .rxd(rxd_d), .busy(),
        .overrun_error(rx_ovr_d), .frame_error(rx_ferr_d));
    uart_tx #(.CLK_HZ(CLK_HZ), .BAUD(12000000)) u_tx_d (
        .clk(clk), .rst(rst), .s_axis_tdata(tx_data_d), .s_axis_tvalid(tx_valid_d),
        .s_axis_tready(tx_ready_d), .txd(txd_d), .busy());
endmodule

`default_nettype wire
