"""Self-checking Verilator testbenches for the block RAM models in rtl/sim/xilinx/.

Each configuration (mode, port widths, write modes) is one instance of the model
next to a reference written the way UG473 describes the primitive: one flat array of
data bits and one of parity bits, a port of width W addressing word ADDR >> log2(W's
data bits) of each. Random INIT/INITP contents, INIT_x and SRVAL_x are parameters of
both; a sweep reads every word through port A first (the INIT layout), then random
enables, byte enables, resets, addresses (half of them in a small window, so that the
two ports collide) and data run for many cycles, and every valid output bit is
compared after every clock edge. The bench prints "PASS" or the first mismatches.
"""

from __future__ import annotations

import dataclasses
import random

SIZES = {
    # data bits, parity bits, address bits used, bus width, widest TDP port, SDP width, WEA, WEBWE, INIT_x bits
    "RAMB18E1": dict(dbits=16384, pbits=2048, aused=14, abits=14, bus=16, tdpmax=18, sdpw=36, wea=2, web=4, rw=18),
    "RAMB36E1": dict(dbits=32768, pbits=4096, aused=15, abits=16, bus=32, tdpmax=36, sdpw=72, wea=4, web=8, rw=36),
}


@dataclasses.dataclass(frozen=True)
class Config:
    mode: str            # "TDP" or "SDP"
    read_a: int
    write_a: int
    read_b: int
    write_b: int
    wmode_a: str = "WRITE_FIRST"
    wmode_b: str = "WRITE_FIRST"
    rst: bool = True     # drive RSTRAM (else tied low)


def _dw(w: int) -> int:
    """data bits of a port of width w"""
    return w // 9 * 8 if w >= 9 else w


def _pw(w: int) -> int:
    return w // 9 if w >= 9 else 0


def _lg(n: int) -> int:
    return n.bit_length() - 1


def _instance(prim: str, idx: int, c: Config, rng: random.Random) -> str:
    s = SIZES[prim]
    n_init, n_initp = s["dbits"] // 256, s["pbits"] // 256
    init_d = rng.getrandbits(s["dbits"])
    init_p = rng.getrandbits(s["pbits"])
    rw = s["rw"]
    inits = {n: rng.getrandbits(rw) for n in ("INIT_A", "INIT_B", "SRVAL_A", "SRVAL_B")}
    params = [f'.RAM_MODE("{c.mode}")', f".READ_WIDTH_A({c.read_a})", f".WRITE_WIDTH_A({c.write_a})",
              f".READ_WIDTH_B({c.read_b})", f".WRITE_WIDTH_B({c.write_b})",
              f'.WRITE_MODE_A("{c.wmode_a}")', f'.WRITE_MODE_B("{c.wmode_b}")']
    params += [f".{n}({rw}'h{v:x})" for n, v in inits.items()]
    params += [f".INIT_{i:02X}(256'h{(init_d >> (256 * i)) & ((1 << 256) - 1):064x})" for i in range(n_init)]
    params += [f".INITP_{i:02X}(256'h{(init_p >> (256 * i)) & ((1 << 256) - 1):064x})" for i in range(n_initp)]
    sdp = c.mode == "SDP"
    bus, half = s["bus"], s["bus"] // 8
    # port geometry (the reference's view): width, data bits, parity bits
    wa = max(c.read_a, c.write_a)
    wb = max(c.read_b, c.write_b)
    p = f"i{idx}_"
    aw = s["abits"]
    wide_r = sdp and c.read_a == s["sdpw"]
    wide_w = sdp and c.write_b == s["sdpw"]
    # reference: flat bit arrays
    lines = [f"    // ---- instance {idx}: {c}"]
    lines += [
        f"    reg {p}en_a, {p}en_b, {p}rst_a, {p}rst_b;",
        f"    reg [{aw-1}:0] {p}addr_a, {p}addr_b;",
        f"    reg [{bus-1}:0] {p}di_a, {p}di_b;",
        f"    reg [{half-1}:0] {p}dip_a, {p}dip_b;",
        f"    reg [{s['wea']-1}:0] {p}we_a;",
        f"    reg [{s['web']-1}:0] {p}we_b;",
        f"    wire [{bus-1}:0] {p}do_a, {p}do_b;",
        f"    wire [{half-1}:0] {p}dop_a, {p}dop_b;",
        f"    {prim} #(",
        "        " + ",\n        ".join(params),
        f"    ) dut{idx} (",
        f"        .CLKARDCLK(clk), .CLKBWRCLK(clk), .ENARDEN({p}en_a), .ENBWREN({p}en_b),",
        "        .REGCEAREGCE(1'b0), .REGCEB(1'b0),",
        f"        .RSTRAMARSTRAM({p}rst_a), .RSTRAMB({p}rst_b), .RSTREGARSTREG(1'b0), .RSTREGB(1'b0),",
        f"        .ADDRARDADDR({p}addr_a), .ADDRBWRADDR({p}addr_b), .DIADI({p}di_a), .DIBDI({p}di_b),",
        f"        .DIPADIP({p}dip_a), .DIPBDIP({p}dip_b), .WEA({p}we_a), .WEBWE({p}we_b),",
        f"        .DOADO({p}do_a), .DOBDO({p}do_b), .DOPADOP({p}dop_a), .DOPBDOP({p}dop_b)",
        "    );",
        f"    reg {p}md [0:{s['dbits']-1}];",
        f"    reg {p}mp [0:{s['pbits']-1}];",
        f"    localparam [{s['dbits']-1}:0] {p}INITD = {s['dbits']}'h{init_d:x};",
        f"    localparam [{s['pbits']-1}:0] {p}INITP = {s['pbits']}'h{init_p:x};",
        # expected outputs {parity, data} of bus A and B, and which bits are defined
        f"    reg [{rw-1}:0] {p}exp_a = {rw}'h{inits['INIT_A']:x}, {p}exp_b = {rw}'h{inits['INIT_B']:x};",
    ]

    def mask(w: int) -> int:
        return ((1 << _pw(w)) - 1) << bus | ((1 << _dw(w)) - 1)

    if wide_r:
        mask_a, mask_b = mask(s["sdpw"] // 2), mask(s["sdpw"] // 2)
    else:
        mask_a = mask(c.read_a) if c.read_a else 0
        mask_b = mask(c.read_b) if (c.read_b and not sdp) else 0
    lines.append(f"    localparam [{rw-1}:0] {p}MASK_A = {rw}'h{mask_a:x}, {p}MASK_B = {rw}'h{mask_b:x};")

    # one port's read (w bits at addr) as {parity, data} on a bus pair {B, A}
    def read_expr(port: str, w: int) -> list[str]:
        dw, pw = _dw(w), _pw(w)
        sh = _lg(dw)
        out = [f"        {p}rd_{port} = {2*rw}'b0;",
               f"        {p}idx_{port} = {p}addr_{port}[{s['aused']-1}:0] >> {sh};"]
        for b in range(dw):
            # data bit b goes to bus A bit b, or bus B for the upper half of a wide access
            pos = b if b < bus else rw + (b - bus)
            out.append(f"        {p}rd_{port}[{pos}] = {p}md[{p}idx_{port} * {dw} + {b}];")
        for b in range(pw):
            pos = bus + b if b < half else rw + bus + (b - half)
            out.append(f"        {p}rd_{port}[{pos}] = {p}mp[{p}idx_{port} * {pw} + {b}];")
        return out

    def write_stmts(port: str, w: int, di: str, dip: str, we: str) -> list[str]:
        dw, pw = _dw(w), _pw(w)
        sh = _lg(dw)
        out = [f"        {p}widx_{port} = {p}addr_{port}[{s['aused']-1}:0] >> {sh};"]
        for b in range(dw):
            en = f"{we}[{b // 8}]" if w >= 18 else f"{we}[0]"
            out.append(f"        if ({en}) {p}md[{p}widx_{port} * {dw} + {b}] = {di}[{b}];")
        for b in range(pw):
            en = f"{we}[{b}]" if w >= 18 else f"{we}[0]"
            out.append(f"        if ({en}) {p}mp[{p}widx_{port} * {pw} + {b}] = {dip}[{b}];")
        return out

    lines += [
        f"    reg [{2*rw-1}:0] {p}rd_a, {p}rd_b;",
        f"    integer {p}idx_a, {p}idx_b, {p}widx_a, {p}widx_b, {p}k;",
        f"    reg {p}wrote_a, {p}wrote_b;",
        "    initial begin",
        f"        for ({p}k = 0; {p}k < {s['dbits']}; {p}k = {p}k + 1) {p}md[{p}k] = {p}INITD[{p}k];",
        f"        for ({p}k = 0; {p}k < {s['pbits']}; {p}k = {p}k + 1) {p}mp[{p}k] = {p}INITP[{p}k];",
        "    end",
        # the reference's clock edge: both ports read the old contents, then both write
        # (the stimulus never lets both ports write one word in a cycle), then a
        # WRITE_FIRST port reads the new contents
        f"    task {p}edge;",
        "    begin",
    ]
    # reads of both ports (old contents), then the writes
    if c.read_a:
        lines += read_expr("a", s["sdpw"] if wide_r else c.read_a)
    if c.read_b and not sdp:
        lines += read_expr("b", c.read_b)
    ww_a = 0 if sdp else c.write_a
    # a write happens if an enable of the port's width is set: bytes 0..W/9-1 at W >= 18, bit 0 below
    def any_we(we: str, w: int) -> str:
        return f"(|{we}[{w // 9 - 1}:0])" if w >= 18 else f"{we}[0]"

    lines.append(f"        {p}wrote_a = {p}en_a && {any_we(p + 'we_a', ww_a) if ww_a else '0'};")
    if ww_a:
        lines.append(f"        if ({p}en_a) begin")
        lines += write_stmts("a", ww_a, f"{p}di_a", f"{p}dip_a", f"{p}we_a")
        lines.append("        end")
    wb_bits = {True: f"{{{p}di_b, {p}di_a}}", False: f"{p}di_b"}[wide_w]
    wbp_bits = {True: f"{{{p}dip_b, {p}dip_a}}", False: f"{p}dip_b"}[wide_w]
    if c.write_b:
        lines.append(f"        {p}wrote_b = {p}en_b && {any_we(p + 'we_b', c.write_b)};")
        lines.append(f"        if ({p}en_b) begin")
        lines += write_stmts("b", c.write_b, wb_bits, wbp_bits, f"{p}we_b")
        lines.append("        end")
    else:
        lines.append(f"        {p}wrote_b = 1'b0;")

    # outputs: the reading port's latch
    def out_update(port: str, r: int, ww: int, wmode: str, srval_lo: str, srval_hi: str | None) -> list[str]:
        if not r:
            return []
        wr = f"{p}wrote_{port}" if ww else "1'b0"
        # WRITE_FIRST: the new word as read back at this port (same address and width)
        after = read_expr(port, s["sdpw"] if (wide_r and port == "a") else r)
        after = [ln.replace(f"{p}rd_{port}", f"{p}wf_{port}") for ln in after]
        o = [f"        if ({p}en_{port}) begin",
             f"            if ({p}rst_{port}) begin"]
        o.append(f"                {p}exp_{port} = {srval_lo};")
        if srval_hi:
            o.append(f"                {p}exp_b = {srval_hi};")
        o.append(f"            end else if (!{wr} || \"{wmode}\" == \"READ_FIRST\") begin")
        o.append(f"                {p}exp_{port} = {p}rd_{port}[{rw-1}:0];")
        if srval_hi:
            o.append(f"                {p}exp_b = {p}rd_{port}[{2*rw-1}:{rw}];")
        o.append(f"            end else if (\"{wmode}\" == \"WRITE_FIRST\") begin")
        o += ["    " + ln for ln in after]
        o.append(f"                {p}exp_{port} = {p}wf_{port}[{rw-1}:0];")
        o += ["            end", "        end"]
        return o

    lines.append(f"        // outputs")
    lines += out_update("a", c.read_a, ww_a, c.wmode_a, f"{rw}'h{inits['SRVAL_A']:x}",
                        f"{rw}'h{inits['SRVAL_B']:x}" if wide_r else None)
    if not sdp:
        lines += out_update("b", c.read_b, c.write_b, c.wmode_b, f"{rw}'h{inits['SRVAL_B']:x}", None)
    lines += [
        "    end",
        "    endtask",
        f"    reg [{2*rw-1}:0] {p}wf_a, {p}wf_b;",
    ]
    # stimulus (phase 0: sweep every word through port A with no writes)
    n_words_a = s["dbits"] // _dw(max(c.read_a, 1) if not wide_r else s["sdpw"])
    lines += [
        f"    task {p}stim(input integer cyc);",
        "    begin",
        f"        if (cyc < {n_words_a if c.read_a else 0}) begin",
        f"            {p}en_a = 1; {p}en_b = 0; {p}rst_a = 0; {p}rst_b = 0; {p}we_a = 0; {p}we_b = 0;",
        f"            {p}addr_a = cyc << {_lg(_dw(s['sdpw'] if wide_r else max(c.read_a, 1)))};",
        "        end else begin",
        f"            {p}en_a = ($urandom % 8) != 0; {p}en_b = ($urandom % 8) != 0;",
        f"            {p}rst_a = {'($urandom % 16) == 0' if c.rst else '0'};",
        f"            {p}rst_b = {'($urandom % 16) == 0' if c.rst and not sdp else '0'};",
        f"            {p}we_a = $urandom; {p}we_b = $urandom;",
        f"            if ($urandom % 2) begin {p}addr_a = $urandom % 256; {p}addr_b = $urandom % 256; end",
        f"            else begin {p}addr_a = $urandom; {p}addr_b = $urandom; end",
        f"            {p}di_a = $urandom; {p}di_b = $urandom; {p}dip_a = $urandom; {p}dip_b = $urandom;",
        # never two writes to one word in a cycle (undefined in the hardware)
        f"            if ({p}we_a != 0 && {p}we_b != 0) {p}addr_b[{s['aused']-1}] = ~{p}addr_a[{s['aused']-1}];" if not sdp else "",
        "        end",
        "    end",
        "    endtask",
        f"    task {p}check(input integer cyc);",
        "    begin",
        f"        if ((({{{p}dop_a, {p}do_a}} ^ {p}exp_a) & {p}MASK_A) != 0) begin",
        f"            errors = errors + 1;",
        f"            if (errors < 10) $display(\"MISMATCH instance {idx} ({c.mode} {c.read_a}/{c.write_a} {c.read_b}/{c.write_b}) cycle %0d port A addr %h: got %h expected %h (mask %h)\", cyc, {p}addr_a, {{{p}dop_a, {p}do_a}}, {p}exp_a, {p}MASK_A);",
        "        end",
        f"        if ((({{{p}dop_b, {p}do_b}} ^ {p}exp_b) & {p}MASK_B) != 0) begin",
        f"            errors = errors + 1;",
        f"            if (errors < 10) $display(\"MISMATCH instance {idx} ({c.mode} {c.read_a}/{c.write_a} {c.read_b}/{c.write_b}) cycle %0d port B addr %h: got %h expected %h (mask %h)\", cyc, {p}addr_b, {{{p}dop_b, {p}do_b}}, {p}exp_b, {p}MASK_B);",
        "        end",
        f"        if ({p}MASK_A == 0 && {p}MASK_B == 0) begin errors = errors + 1; $display(\"instance {idx} reads nothing\"); end",
        "    end",
        "    endtask",
    ]
    return "\n".join(lines)


def testbench(prim: str, configs: list[Config], cycles: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    insts = [_instance(prim, i, c, rng) for i, c in enumerate(configs)]
    n = len(configs)
    body = [f"module tb_{prim.lower()};", "    reg clk = 0;", "    integer errors = 0;", "    integer cyc;"]
    body += insts
    body += [
        "    initial begin",
        f"        for (cyc = 0; cyc < {cycles}; cyc = cyc + 1) begin",
        *[f"            i{i}_stim(cyc);" for i in range(n)],
        "            #5 clk = 1;",
        *[f"            i{i}_edge;" for i in range(n)],
        "            #1;",
        *[f"            i{i}_check(cyc);" for i in range(n)],
        "            #4 clk = 0;",
        "        end",
        f"        if (errors == 0) $display(\"PASS {prim}: {n} configurations, {cycles} cycles\");",
        "        else $display(\"FAIL %0d mismatches\", errors);",
        "        $finish;",
        "    end",
        "endmodule",
    ]
    return "\n".join(body) + "\n"
