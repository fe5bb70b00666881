// Common building blocks of the tritgpt core: memories, delay lines, the
// round-shift-saturate stage and the DSP48 multiplier slice.
//
// Memories are written so that yosys (synth_xilinx) and Vivado infer block RAM
// in a mode the open Xilinx flow handles: single port or true dual port, at
// most 32 data bits per port, no parity bits, power-of-two depth.

`default_nettype none
/* verilator lint_off DECLFILENAME */

// Single-port block RAM, read-first, registered output plus one more fabric
// register (dout is valid two cycles after addr).
module tg_ram_sp #(
    parameter W     = 32,
    parameter DEPTH = 512,
    parameter AW    = 9,
    parameter INIT  = ""
) (
    input  wire          clk,
    input  wire          en,
    input  wire          we,
    input  wire [AW-1:0] addr,
    input  wire [W-1:0]  din,
    output reg  [W-1:0]  dout
);
    (* ram_style = "block" *) reg [W-1:0] mem [0:DEPTH-1];
    reg [W-1:0] q;
    generate if (INIT != "") begin : g_init
        initial $readmemh(INIT, mem);
    end endgenerate
    always @(posedge clk) begin
        if (en) begin
            if (we) mem[addr] <= din;
            q <= mem[addr];
        end
        dout <= q;
    end
endmodule

// True dual-port block RAM, both ports in no-change mode (a write leaves the
// port's output as it was), registered outputs plus one more fabric register
// on each port (two cycles addr -> dout).
module tg_ram_tdp #(
    parameter W     = 32,
    parameter DEPTH = 512,
    parameter AW    = 9,
    parameter INIT  = ""
) (
    input  wire          clk,
    input  wire          en_a,
    input  wire          we_a,
    input  wire [AW-1:0] addr_a,
    input  wire [W-1:0]  din_a,
    output reg  [W-1:0]  dout_a,
    input  wire          en_b,
    input  wire          we_b,
    input  wire [AW-1:0] addr_b,
    input  wire [W-1:0]  din_b,
    output reg  [W-1:0]  dout_b
);
    (* ram_style = "block" *) reg [W-1:0] mem [0:DEPTH-1];
    reg [W-1:0] qa, qb;
    generate if (INIT != "") begin : g_init
        initial $readmemh(INIT, mem);
    end endgenerate
    always @(posedge clk) begin
        if (en_a) begin
            if (we_a) mem[addr_a] <= din_a;
            else      qa <= mem[addr_a];
        end
        dout_a <= qa;
    end
    always @(posedge clk) begin
        if (en_b) begin
            if (we_b) mem[addr_b] <= din_b;
            else      qb <= mem[addr_b];
        end
        dout_b <= qb;
    end
endmodule

// Dual-port ROM in block RAM (fixed tables). OREG = 1: two cycles addr -> dout
// (output registered once more in the fabric); OREG = 0: one cycle, for
// outputs that go straight into a register.
module tg_rom_dp #(
    parameter W     = 16,
    parameter DEPTH = 256,
    parameter AW    = 8,
    parameter OREG  = 1,
    parameter INIT  = ""
) (
    input  wire          clk,
    input  wire [AW-1:0] addr_a,
    output wire [W-1:0]  dout_a,
    input  wire [AW-1:0] addr_b,
    output wire [W-1:0]  dout_b
);
    (* ram_style = "block", rom_style = "block" *) reg [W-1:0] mem [0:DEPTH-1];
    reg [W-1:0] qa, qb, ra, rb;
    generate if (INIT != "") begin : g_init
        initial $readmemh(INIT, mem);
    end endgenerate
    always @(posedge clk) begin
        qa <= mem[addr_a];
        qb <= mem[addr_b];
        ra <= qa;
        rb <= qb;
    end
    assign dout_a = OREG ? ra : qa;
    assign dout_b = OREG ? rb : qb;
endmodule

// Single-port ROM in block RAM, one cycle addr -> dout (for outputs that go
// straight into a register).
module tg_rom_sp #(
    parameter W     = 16,
    parameter DEPTH = 256,
    parameter AW    = 8,
    parameter INIT  = ""
) (
    input  wire          clk,
    input  wire [AW-1:0] addr,
    output reg  [W-1:0]  dout
);
    (* ram_style = "block", rom_style = "block" *) reg [W-1:0] mem [0:DEPTH-1];
    generate if (INIT != "") begin : g_init
        initial $readmemh(INIT, mem);
    end endgenerate
    always @(posedge clk) dout <= mem[addr];
endmodule

// Distributed (LUT) RAM: one synchronous write port, one asynchronous read port.
// Used for small scratch buffers that need many narrow ports.
module tg_lutram #(
    parameter W     = 16,
    parameter DEPTH = 32,
    parameter AW    = 5
) (
    input  wire          clk,
    input  wire          we,
    input  wire [AW-1:0] waddr,
    input  wire [W-1:0]  wdata,
    input  wire [AW-1:0] raddr,
    output wire [W-1:0]  rdata
);
    (* ram_style = "distributed" *) reg [W-1:0] mem [0:DEPTH-1];
    always @(posedge clk)
        if (we) mem[waddr] <= wdata;
    assign rdata = mem[raddr];
endmodule

// N-cycle delay line (N >= 1) for pipeline sideband signals.
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

// One DSP48E1 multiplier: registered operands, registered product, registered
// output (p is valid three cycles after a/b). 25 x 18 signed.
module tg_mac_slice (
    input  wire               clk,
    input  wire signed [24:0] a,
    input  wire signed [17:0] b,
    output reg  signed [42:0] p
);
    reg signed [24:0] a_r;
    reg signed [17:0] b_r;
    reg signed [42:0] m_r;
    always @(posedge clk) begin
        a_r <= a;
        b_r <= b;
        m_r <= a_r * b_r;
        p   <= m_r;
    end
endmodule

// Round-half-up arithmetic right shift and saturation, the model's
//   y = sat(rshift_round(p, s)) = sat((p + 2^(s-1)) >> s),  s = SMIN + s_off.
// Computed as ((p >>> (s-1)) + 1) >>> 1, which is the same integer.
// Modes: 0 = sat to int8, 1 = sat to int16, 2 = clip to [0, 127] (ReLU).
// Two pipeline stages: y is valid two cycles after p.
module tg_round_sat #(
    parameter PW    = 40,   // width of p (signed)
    parameter SMIN  = 1,    // smallest shift
    parameter SBITS = 6     // s_off range 0 .. 2^SBITS-1
) (
    input  wire                 clk,
    input  wire signed [PW-1:0] p,
    input  wire [SBITS-1:0]     s_off,
    input  wire [1:0]           mode,
    output reg  signed [15:0]   y
);
    localparam QW = PW - (SMIN - 1);   // width after the constant part of the shift
    // the constant part of the shift drops the low SMIN-1 bits
    /* verilator lint_off UNUSEDSIGNAL */
    wire signed [PW-1:0] p_sh  = p >>> (SMIN - 1);
    /* verilator lint_on UNUSEDSIGNAL */
    wire signed [QW-1:0] p_pre = p_sh[QW-1:0];
    reg  signed [QW-1:0] q;
    reg  [1:0]           mode_r;
    always @(posedge clk) begin
        q      <= p_pre >>> s_off;
        mode_r <= mode;
    end
    wire signed [QW:0] qe = {q[QW-1], q};                        // (concatenations are unsigned)
    wire signed [QW:0] qp = qe + $signed({{QW{1'b0}}, 1'b1});
    wire signed [QW:0] r  = qp >>> 1;
    wire hi8  = r > $signed({{(QW-7){1'b0}}, 8'd127});
    wire lo8  = r < -$signed({{(QW-7){1'b0}}, 8'd128});
    wire hi16 = r > $signed({{(QW-15){1'b0}}, 16'd32767});
    wire lo16 = r < -$signed({{(QW-15){1'b0}}, 16'd32768});
    always @(posedge clk) begin
        case (mode_r)
            2'd1:    y <= hi16 ? 16'sd32767 : lo16 ? -16'sd32768 : r[15:0];
            2'd2:    y <= hi8 ? 16'sd127 : r[QW] ? 16'sd0 : r[15:0];
            default: y <= hi8 ? 16'sd127 : lo8 ? -16'sd128 : r[15:0];
        endcase
    end
endmodule

/* verilator lint_on DECLFILENAME */
`default_nettype wire
