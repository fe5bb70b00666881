// Simulation models of the ECP5 primitives that yosys' ECP5 cell library (share/ecp5/
// cells_sim.v) has only as black boxes (MULT18X18D, DCCA, DP16KD below), for gate-level simulation of the netlists of
// synth_ecp5 and nextpnr-ecp5 (tritgpt/fpga/ecp5_gatesim.py). Not for synthesis.
//
//   MULT18X18D  18x18 multiplier, as synth_ecp5 uses it: no input, pipeline or output
//               registers (the model stops the simulation if a netlist sets any), signed
//               or unsigned per operand from SIGNEDA/SIGNEDB. P = A * B (36 bits).
//   DCCA        global clock buffer with enable: CLKO = CLKI gated by CE, the enable
//               taken while CLKI is low (glitch-free, as rtl/tg_clock_divider.v models it).
//
// Written from the port list of yosys' share/ecp5/cells_bb.v; ports the
// models do not use are declared so that netlists connecting them elaborate.

`default_nettype none

module MULT18X18D (
    input  wire A17, A16, A15, A14, A13, A12, A11, A10, A9, A8, A7, A6, A5, A4, A3, A2, A1, A0,
    input  wire B17, B16, B15, B14, B13, B12, B11, B10, B9, B8, B7, B6, B5, B4, B3, B2, B1, B0,
    input  wire C17, C16, C15, C14, C13, C12, C11, C10, C9, C8, C7, C6, C5, C4, C3, C2, C1, C0,
    input  wire SIGNEDA, SIGNEDB, SOURCEA, SOURCEB,
    input  wire CLK3, CLK2, CLK1, CLK0,
    input  wire CE3, CE2, CE1, CE0,
    input  wire RST3, RST2, RST1, RST0,
    input  wire SRIA17, SRIA16, SRIA15, SRIA14, SRIA13, SRIA12, SRIA11, SRIA10, SRIA9, SRIA8, SRIA7, SRIA6, SRIA5, SRIA4, SRIA3, SRIA2, SRIA1, SRIA0,
    input  wire SRIB17, SRIB16, SRIB15, SRIB14, SRIB13, SRIB12, SRIB11, SRIB10, SRIB9, SRIB8, SRIB7, SRIB6, SRIB5, SRIB4, SRIB3, SRIB2, SRIB1, SRIB0,
    output wire SROA17, SROA16, SROA15, SROA14, SROA13, SROA12, SROA11, SROA10, SROA9, SROA8, SROA7, SROA6, SROA5, SROA4, SROA3, SROA2, SROA1, SROA0,
    output wire SROB17, SROB16, SROB15, SROB14, SROB13, SROB12, SROB11, SROB10, SROB9, SROB8, SROB7, SROB6, SROB5, SROB4, SROB3, SROB2, SROB1, SROB0,
    output wire ROA17, ROA16, ROA15, ROA14, ROA13, ROA12, ROA11, ROA10, ROA9, ROA8, ROA7, ROA6, ROA5, ROA4, ROA3, ROA2, ROA1, ROA0,
    output wire ROB17, ROB16, ROB15, ROB14, ROB13, ROB12, ROB11, ROB10, ROB9, ROB8, ROB7, ROB6, ROB5, ROB4, ROB3, ROB2, ROB1, ROB0,
    output wire ROC17, ROC16, ROC15, ROC14, ROC13, ROC12, ROC11, ROC10, ROC9, ROC8, ROC7, ROC6, ROC5, ROC4, ROC3, ROC2, ROC1, ROC0,
    output wire P35, P34, P33, P32, P31, P30, P29, P28, P27, P26, P25, P24, P23, P22, P21, P20, P19, P18, P17, P16, P15, P14, P13, P12, P11, P10, P9, P8, P7, P6, P5, P4, P3, P2, P1, P0,
    output wire SIGNEDP
);
    parameter REG_INPUTA_CLK = "NONE";
    parameter REG_INPUTA_CE = "CE0";
    parameter REG_INPUTA_RST = "RST0";
    parameter REG_INPUTB_CLK = "NONE";
    parameter REG_INPUTB_CE = "CE0";
    parameter REG_INPUTB_RST = "RST0";
    parameter REG_INPUTC_CLK = "NONE";
    parameter REG_INPUTC_CE = "CE0";
    parameter REG_INPUTC_RST = "RST0";
    parameter REG_PIPELINE_CLK = "NONE";
    parameter REG_PIPELINE_CE = "CE0";
    parameter REG_PIPELINE_RST = "RST0";
    parameter REG_OUTPUT_CLK = "NONE";
    parameter REG_OUTPUT_CE = "CE0";
    parameter REG_OUTPUT_RST = "RST0";
    parameter CLK0_DIV = "ENABLED";
    parameter CLK1_DIV = "ENABLED";
    parameter CLK2_DIV = "ENABLED";
    parameter CLK3_DIV = "ENABLED";
    parameter HIGHSPEED_CLK = "NONE";
    parameter GSR = "ENABLED";
    parameter CAS_MATCH_REG = "FALSE";
    parameter SOURCEB_MODE = "B_SHIFT";
    parameter MULT_BYPASS = "DISABLED";
    parameter RESETMODE = "SYNC";

    initial begin
        if (REG_INPUTA_CLK != "NONE" || REG_INPUTB_CLK != "NONE" || REG_INPUTC_CLK != "NONE" ||
            REG_PIPELINE_CLK != "NONE" || REG_OUTPUT_CLK != "NONE" || MULT_BYPASS != "DISABLED") begin
            $display("MULT18X18D model: registered or bypass modes are not modelled");
            $finish;
        end
    end

    wire [17:0] a = {A17, A16, A15, A14, A13, A12, A11, A10, A9, A8, A7, A6, A5, A4, A3, A2, A1, A0};
    wire [17:0] b = {B17, B16, B15, B14, B13, B12, B11, B10, B9, B8, B7, B6, B5, B4, B3, B2, B1, B0};
    wire signed [18:0] as = {SIGNEDA & a[17], a};
    wire signed [18:0] bs = {SIGNEDB & b[17], b};
    wire signed [37:0] prod = as * bs;
    assign {P35, P34, P33, P32, P31, P30, P29, P28, P27, P26, P25, P24, P23, P22, P21, P20, P19, P18, P17, P16, P15, P14, P13, P12, P11, P10, P9, P8, P7, P6, P5, P4, P3, P2, P1, P0} = prod[35:0];
    assign SIGNEDP = SIGNEDA | SIGNEDB;
    assign {SROA17, SROA16, SROA15, SROA14, SROA13, SROA12, SROA11, SROA10, SROA9, SROA8, SROA7, SROA6, SROA5, SROA4, SROA3, SROA2, SROA1, SROA0} = a;
    assign {SROB17, SROB16, SROB15, SROB14, SROB13, SROB12, SROB11, SROB10, SROB9, SROB8, SROB7, SROB6, SROB5, SROB4, SROB3, SROB2, SROB1, SROB0} = b;
    assign {ROA17, ROA16, ROA15, ROA14, ROA13, ROA12, ROA11, ROA10, ROA9, ROA8, ROA7, ROA6, ROA5, ROA4, ROA3, ROA2, ROA1, ROA0} = a;
    assign {ROB17, ROB16, ROB15, ROB14, ROB13, ROB12, ROB11, ROB10, ROB9, ROB8, ROB7, ROB6, ROB5, ROB4, ROB3, ROB2, ROB1, ROB0} = b;
    assign {ROC17, ROC16, ROC15, ROC14, ROC13, ROC12, ROC11, ROC10, ROC9, ROC8, ROC7, ROC6, ROC5, ROC4, ROC3, ROC2, ROC1, ROC0} = {C17, C16, C15, C14, C13, C12, C11, C10, C9, C8, C7, C6, C5, C4, C3, C2, C1, C0};
endmodule

module DCCA (input wire CLKI, input wire CE, output wire CLKO);
    reg ce_latched = 1'b1;
    /* verilator lint_off LATCH */
    always @(*) if (!CLKI) ce_latched = CE;
    /* verilator lint_on LATCH */
    assign CLKO = CLKI & ce_latched;
endmodule

// DP16KD: the ECP5 18 Kbit block RAM, as yosys' share/ecp5 library leaves it a black box
// and synth_ecp5 instantiates it (techlibs/lattice/brams_map_16kd.v): ports of 9 or 18
// bits (true dual port; at 18 bits ADx1:0 are the two 9-bit write enables) or one
// 36-bit write port A (data {DIB, DIA}, ADA3:0 the four 9-bit write enables) and one
// 36-bit read port B (data {DOB, DOA}), no output registers (REGMODE "NOREG").
// Contents: 1,024 words of 18 bits, word k in INITVAL_(k/16) bits 20*(k%16) +: 18; a
// word of a W-bit port at address a is bits W*a .. W*a+W-1 of them (as the weight
// swap, tritgpt/fpga/ecp5_swap.py, reads them). Write modes: NORMAL keeps the port's
// output during a write, WRITETHROUGH shows the new data, READBEFOREWRITE the old;
// a port reads the other port's write of the same edge as the old data. Refused at
// time 0: output registers, chip-select decoding, inverted clocks.
/* verilator lint_off MODDUP */
/* verilator lint_off UNUSEDSIGNAL */
/* verilator lint_off UNUSEDPARAM */
/* verilator lint_off WIDTHEXPAND */
module DP16KD #(
    parameter integer DATA_WIDTH_A = 18,
    parameter integer DATA_WIDTH_B = 18,
    parameter REGMODE_A = "NOREG",
    parameter REGMODE_B = "NOREG",
    parameter RESETMODE = "SYNC",
    parameter ASYNC_RESET_RELEASE = "SYNC",
    parameter CSDECODE_A = "0b000",
    parameter CSDECODE_B = "0b000",
    parameter WRITEMODE_A = "NORMAL",
    parameter WRITEMODE_B = "NORMAL",
    parameter GSR = "ENABLED",
    parameter CLKAMUX = "CLKA",
    parameter CLKBMUX = "CLKB",
    parameter [319:0] INITVAL_00 = 320'h0,
    parameter [319:0] INITVAL_01 = 320'h0,
    parameter [319:0] INITVAL_02 = 320'h0,
    parameter [319:0] INITVAL_03 = 320'h0,
    parameter [319:0] INITVAL_04 = 320'h0,
    parameter [319:0] INITVAL_05 = 320'h0,
    parameter [319:0] INITVAL_06 = 320'h0,
    parameter [319:0] INITVAL_07 = 320'h0,
    parameter [319:0] INITVAL_08 = 320'h0,
    parameter [319:0] INITVAL_09 = 320'h0,
    parameter [319:0] INITVAL_0A = 320'h0,
    parameter [319:0] INITVAL_0B = 320'h0,
    parameter [319:0] INITVAL_0C = 320'h0,
    parameter [319:0] INITVAL_0D = 320'h0,
    parameter [319:0] INITVAL_0E = 320'h0,
    parameter [319:0] INITVAL_0F = 320'h0,
    parameter [319:0] INITVAL_10 = 320'h0,
    parameter [319:0] INITVAL_11 = 320'h0,
    parameter [319:0] INITVAL_12 = 320'h0,
    parameter [319:0] INITVAL_13 = 320'h0,
    parameter [319:0] INITVAL_14 = 320'h0,
    parameter [319:0] INITVAL_15 = 320'h0,
    parameter [319:0] INITVAL_16 = 320'h0,
    parameter [319:0] INITVAL_17 = 320'h0,
    parameter [319:0] INITVAL_18 = 320'h0,
    parameter [319:0] INITVAL_19 = 320'h0,
    parameter [319:0] INITVAL_1A = 320'h0,
    parameter [319:0] INITVAL_1B = 320'h0,
    parameter [319:0] INITVAL_1C = 320'h0,
    parameter [319:0] INITVAL_1D = 320'h0,
    parameter [319:0] INITVAL_1E = 320'h0,
    parameter [319:0] INITVAL_1F = 320'h0,
    parameter [319:0] INITVAL_20 = 320'h0,
    parameter [319:0] INITVAL_21 = 320'h0,
    parameter [319:0] INITVAL_22 = 320'h0,
    parameter [319:0] INITVAL_23 = 320'h0,
    parameter [319:0] INITVAL_24 = 320'h0,
    parameter [319:0] INITVAL_25 = 320'h0,
    parameter [319:0] INITVAL_26 = 320'h0,
    parameter [319:0] INITVAL_27 = 320'h0,
    parameter [319:0] INITVAL_28 = 320'h0,
    parameter [319:0] INITVAL_29 = 320'h0,
    parameter [319:0] INITVAL_2A = 320'h0,
    parameter [319:0] INITVAL_2B = 320'h0,
    parameter [319:0] INITVAL_2C = 320'h0,
    parameter [319:0] INITVAL_2D = 320'h0,
    parameter [319:0] INITVAL_2E = 320'h0,
    parameter [319:0] INITVAL_2F = 320'h0,
    parameter [319:0] INITVAL_30 = 320'h0,
    parameter [319:0] INITVAL_31 = 320'h0,
    parameter [319:0] INITVAL_32 = 320'h0,
    parameter [319:0] INITVAL_33 = 320'h0,
    parameter [319:0] INITVAL_34 = 320'h0,
    parameter [319:0] INITVAL_35 = 320'h0,
    parameter [319:0] INITVAL_36 = 320'h0,
    parameter [319:0] INITVAL_37 = 320'h0,
    parameter [319:0] INITVAL_38 = 320'h0,
    parameter [319:0] INITVAL_39 = 320'h0,
    parameter [319:0] INITVAL_3A = 320'h0,
    parameter [319:0] INITVAL_3B = 320'h0,
    parameter [319:0] INITVAL_3C = 320'h0,
    parameter [319:0] INITVAL_3D = 320'h0,
    parameter [319:0] INITVAL_3E = 320'h0,
    parameter [319:0] INITVAL_3F = 320'h0,
    parameter INIT_DATA = "STATIC"
) (
    input  wire DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7, DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0,
    input  wire ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4, ADA3, ADA2, ADA1, ADA0,
    input  wire CEA, OCEA, CLKA, WEA, RSTA, CSA2, CSA1, CSA0,
    output wire DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6, DOA5, DOA4, DOA3, DOA2, DOA1, DOA0,
    input  wire DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8, DIB7, DIB6, DIB5, DIB4, DIB3, DIB2, DIB1, DIB0,
    input  wire ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4, ADB3, ADB2, ADB1, ADB0,
    input  wire CEB, OCEB, CLKB, WEB, RSTB, CSB2, CSB1, CSB0,
    output wire DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6, DOB5, DOB4, DOB3, DOB2, DOB1, DOB0
);
    localparam [20479:0] INIT = {INITVAL_3F, INITVAL_3E, INITVAL_3D, INITVAL_3C, INITVAL_3B, INITVAL_3A, INITVAL_39, INITVAL_38, INITVAL_37, INITVAL_36, INITVAL_35, INITVAL_34, INITVAL_33, INITVAL_32, INITVAL_31, INITVAL_30, INITVAL_2F, INITVAL_2E, INITVAL_2D, INITVAL_2C, INITVAL_2B, INITVAL_2A, INITVAL_29, INITVAL_28, INITVAL_27, INITVAL_26, INITVAL_25, INITVAL_24, INITVAL_23, INITVAL_22, INITVAL_21, INITVAL_20, INITVAL_1F, INITVAL_1E, INITVAL_1D, INITVAL_1C, INITVAL_1B, INITVAL_1A, INITVAL_19, INITVAL_18, INITVAL_17, INITVAL_16, INITVAL_15, INITVAL_14, INITVAL_13, INITVAL_12, INITVAL_11, INITVAL_10, INITVAL_0F, INITVAL_0E, INITVAL_0D, INITVAL_0C, INITVAL_0B, INITVAL_0A, INITVAL_09, INITVAL_08, INITVAL_07, INITVAL_06, INITVAL_05, INITVAL_04, INITVAL_03, INITVAL_02, INITVAL_01, INITVAL_00};
    reg [17:0] mem [0:1023];
    integer k;
    initial begin
        for (k = 0; k < 1024; k = k + 1) mem[k] = INIT[20 * k +: 18];
        if (REGMODE_A != "NOREG" || REGMODE_B != "NOREG" || CSDECODE_A != "0b000" || CSDECODE_B != "0b000"
                || CLKAMUX != "CLKA" || CLKBMUX != "CLKB") begin
            $display("DP16KD model: only REGMODE NOREG, CSDECODE 0b000 and plain clocks are modelled");
            $finish;
        end
        if (!((DATA_WIDTH_A == 36 && DATA_WIDTH_B == 36) || ((DATA_WIDTH_A == 9 || DATA_WIDTH_A == 18)
                && (DATA_WIDTH_B == 9 || DATA_WIDTH_B == 18)))) begin
            $display("DP16KD model: widths %0d/%0d are not modelled (9, 18 or 36/36)", DATA_WIDTH_A, DATA_WIDTH_B);
            $finish;
        end
    end

    wire [17:0] dia = {DIA17, DIA16, DIA15, DIA14, DIA13, DIA12, DIA11, DIA10, DIA9, DIA8, DIA7, DIA6, DIA5, DIA4, DIA3, DIA2, DIA1, DIA0};
    wire [17:0] dib = {DIB17, DIB16, DIB15, DIB14, DIB13, DIB12, DIB11, DIB10, DIB9, DIB8, DIB7, DIB6, DIB5, DIB4, DIB3, DIB2, DIB1, DIB0};
    wire [13:0] ada = {ADA13, ADA12, ADA11, ADA10, ADA9, ADA8, ADA7, ADA6, ADA5, ADA4, ADA3, ADA2, ADA1, ADA0};
    wire [13:0] adb = {ADB13, ADB12, ADB11, ADB10, ADB9, ADB8, ADB7, ADB6, ADB5, ADB4, ADB3, ADB2, ADB1, ADB0};
    reg  [17:0] doa = 18'd0;
    reg  [17:0] dob = 18'd0;
    assign {DOA17, DOA16, DOA15, DOA14, DOA13, DOA12, DOA11, DOA10, DOA9, DOA8, DOA7, DOA6, DOA5, DOA4, DOA3, DOA2, DOA1, DOA0} = doa;
    assign {DOB17, DOB16, DOB15, DOB14, DOB13, DOB12, DOB11, DOB10, DOB9, DOB8, DOB7, DOB6, DOB5, DOB4, DOB3, DOB2, DOB1, DOB0} = dob;

    // a 9-bit port's word a (ADx13:3) is half ADx3 of 18-bit word ADx13:4
    generate
        if (DATA_WIDTH_A == 36) begin : g_pdp
            always @(posedge CLKA) if (CEA && WEA) begin
                if (ada[0]) mem[ada[13:5] * 2][8:0]      <= dia[8:0];
                if (ada[1]) mem[ada[13:5] * 2][17:9]     <= dia[17:9];
                if (ada[2]) mem[ada[13:5] * 2 + 1][8:0]  <= dib[8:0];
                if (ada[3]) mem[ada[13:5] * 2 + 1][17:9] <= dib[17:9];
            end
            always @(posedge CLKB or posedge RSTB) begin
                if (RSTB) begin doa <= 18'd0; dob <= 18'd0; end
                else if (CEB) begin
                    doa <= mem[adb[13:5] * 2];
                    dob <= mem[adb[13:5] * 2 + 1];
                end
            end
        end else begin : g_tdp
            always @(posedge CLKA or posedge RSTA) begin
                if (RSTA) doa <= 18'd0;
                else if (CEA) begin
                    if (DATA_WIDTH_A == 18) begin
                        if (WEA) begin
                            if (ada[0]) mem[ada[13:4]][8:0]  <= dia[8:0];
                            if (ada[1]) mem[ada[13:4]][17:9] <= dia[17:9];
                        end
                        if (!WEA || WRITEMODE_A == "READBEFOREWRITE") doa <= mem[ada[13:4]];
                        else if (WRITEMODE_A == "WRITETHROUGH")
                            doa <= {ada[1] ? dia[17:9] : mem[ada[13:4]][17:9], ada[0] ? dia[8:0] : mem[ada[13:4]][8:0]};
                    end else begin
                        if (WEA) begin
                            if (ada[3]) mem[ada[13:4]][17:9] <= dia[8:0];
                            else        mem[ada[13:4]][8:0]  <= dia[8:0];
                        end
                        if (!WEA || WRITEMODE_A == "READBEFOREWRITE")
                            doa <= {9'd0, ada[3] ? mem[ada[13:4]][17:9] : mem[ada[13:4]][8:0]};
                        else if (WRITEMODE_A == "WRITETHROUGH") doa <= {9'd0, dia[8:0]};
                    end
                end
            end
            always @(posedge CLKB or posedge RSTB) begin
                if (RSTB) dob <= 18'd0;
                else if (CEB) begin
                    if (DATA_WIDTH_B == 18) begin
                        if (WEB) begin
                            if (adb[0]) mem[adb[13:4]][8:0]  <= dib[8:0];
                            if (adb[1]) mem[adb[13:4]][17:9] <= dib[17:9];
                        end
                        if (!WEB || WRITEMODE_B == "READBEFOREWRITE") dob <= mem[adb[13:4]];
                        else if (WRITEMODE_B == "WRITETHROUGH")
                            dob <= {adb[1] ? dib[17:9] : mem[adb[13:4]][17:9], adb[0] ? dib[8:0] : mem[adb[13:4]][8:0]};
                    end else begin
                        if (WEB) begin
                            if (adb[3]) mem[adb[13:4]][17:9] <= dib[8:0];
                            else        mem[adb[13:4]][8:0]  <= dib[8:0];
                        end
                        if (!WEB || WRITEMODE_B == "READBEFOREWRITE")
                            dob <= {9'd0, adb[3] ? mem[adb[13:4]][17:9] : mem[adb[13:4]][8:0]};
                        else if (WRITEMODE_B == "WRITETHROUGH") dob <= {9'd0, dib[8:0]};
                    end
                end
            end
        end
    endgenerate
endmodule
/* verilator lint_on WIDTHEXPAND */
/* verilator lint_on UNUSEDPARAM */
/* verilator lint_on UNUSEDSIGNAL */
/* verilator lint_on MODDUP */

`default_nettype wire
