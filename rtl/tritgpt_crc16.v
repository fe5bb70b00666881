// One byte of CRC-16/CCITT-FALSE (poly 0x1021, MSB first): crc_out is crc_in
// updated with data. Combinational; the protocol's frames start from 16'hFFFF.

`default_nettype none

module tritgpt_crc16 (
    input  wire [15:0] crc_in,
    input  wire [7:0]  data,
    output reg  [15:0] crc_out
);
    integer i;
    always @* begin
        crc_out = crc_in ^ {data, 8'h00};
        for (i = 0; i < 8; i = i + 1)
            crc_out = crc_out[15] ? ({crc_out[14:0], 1'b0} ^ 16'h1021) : {crc_out[14:0], 1'b0};
    end
endmodule

`default_nettype wire
