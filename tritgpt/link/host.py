"""Host client for a tritgpt board (or the simulated board) over a serial port.

    with Board("/dev/ttyUSB1") as board:
        print(board.identify())
        result = board.generate("ROMEO:", 200, temperature=0.8, seed=1,
                                on_token=lambda t: print(chr(t), end="", flush=True))

Every problem a user can fix is raised as tritgpt.errors.UserError with a
message that says what to do. Every wait is bounded. The protocol is in
docs/protocol.md (and tritgpt/link/protocol.py).
"""

from __future__ import annotations

import dataclasses
import errno
import time
from pathlib import Path

from . import protocol as P
from ..errors import UserError

RETRIABLE = {P.ErrorCode.BAD_CRC, P.ErrorCode.BAD_TYPE, P.ErrorCode.BAD_LENGTH, P.ErrorCode.TIMEOUT,
             P.ErrorCode.OVERRUN, P.ErrorCode.FRAMING, P.ErrorCode.GARBAGE}
WRITE_WINDOW = 4          # WRITE frames in flight before waiting for acknowledgements


class BoardError(UserError):
    """A board that cannot be reached or that answers wrongly."""


def default_baud() -> int:
    """The rate a host assumes when told none: the reference board's ([uart] baud of
    constraints/REFERENCE_BOARD.toml, the rate of the 100 MHz boards)."""
    from ..fpga import boards

    return boards.get_board(boards.REFERENCE_BOARD).baud


@dataclasses.dataclass
class GenerateResult:
    tokens: list[int]
    end: P.End
    wire_seconds: float          # first byte sent .. END received
    first_token_seconds: float   # first byte sent .. first token received

    @property
    def text(self) -> str:
        return "".join(chr(t) for t in self.tokens)

    def core_tokens_per_second(self, clock_hz: float) -> float:
        """The core's own rate: tokens over its cycles (stalls excluded) at clock_hz."""
        return len(self.tokens) * clock_hz / self.end.cycles if self.end.cycles else 0.0

    def delivered_chars_per_second(self, clock_hz: float) -> float:
        """Characters/s that reached the host, timed by the board: tokens over END's span
        (the run's start until its last token had left the UART) at clock_hz. On the
        simulated board this is simulated time."""
        return len(self.tokens) * clock_hz / self.end.span_cycles if self.end.span_cycles else 0.0

    @property
    def wire_tokens_per_second(self) -> float:
        """Tokens/s as received here, by the host's wall clock (for a simulated board:
        the simulator's speed, not the board's)."""
        return len(self.tokens) / self.wire_seconds if self.wire_seconds > 0 else 0.0


def open_serial(port: str, baud: int):
    """serial.Serial with the usual failures turned into messages that say what to do."""
    import serial

    try:
        return serial.Serial(port, baud, timeout=0.05, write_timeout=5)
    except serial.SerialException as exc:
        code = exc.errno
        if code == errno.ENOENT:
            raise BoardError(f"no such serial port {port}; {_available_ports()}") from None
        if code == errno.EACCES:
            raise BoardError(f"permission denied opening {port}: add yourself to the dialout group "
                             f"(sudo usermod -aG dialout $USER, then log out and back in)") from None
        if code == errno.EBUSY:
            raise BoardError(f"{port} is busy: another program (a terminal, openFPGALoader) has it open") from None
        raise BoardError(f"cannot open serial port {port}: {exc}") from None
    except ValueError as exc:
        raise BoardError(f"cannot open serial port {port}: {exc}") from None


def _available_ports() -> str:
    try:
        from serial.tools import list_ports

        ports = sorted(p.device for p in list_ports.comports())
    except Exception:  # pragma: no cover - listing is best effort
        ports = []
    return f"ports found: {', '.join(ports)}" if ports else "no serial ports found (is the board plugged in?)"


class Board:
    """A tritgpt board on a serial port."""

    def __init__(self, port: str, baud: int | None = None, *, timeout: float = 2.0,
                 token_timeout: float = 30.0, log=None):
        self.port = port
        self.baud = baud or default_baud()
        self.timeout = timeout              # for replies to commands
        self.token_timeout = token_timeout  # longest silence while a run is in progress
        self.log = log or (lambda msg: None)
        self.decoder = P.FrameDecoder()
        self.device_errors: list[P.DeviceError] = []
        self._ident: P.Ident | None = None
        self._synced = False
        self._pending: list = []
        self.ser = open_serial(port, self.baud)
        self._flush_input()

    # -- plumbing -------------------------------------------------------------

    def close(self) -> None:
        if self.ser is not None:
            try:
                self.ser.close()
            finally:
                self.ser = None

    def __enter__(self) -> "Board":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _write(self, data: bytes) -> None:
        import serial

        try:
            self.ser.write(data)
        except serial.SerialTimeoutException:
            raise BoardError(f"writing to {self.port} timed out (is the port still there?)") from None
        except serial.SerialException as exc:
            raise BoardError(f"writing to {self.port} failed: {exc}") from None

    def _read_some(self) -> bytes:
        import serial

        try:
            return self.ser.read(max(1, self.ser.in_waiting))
        except serial.SerialException as exc:
            raise BoardError(f"reading from {self.port} failed: {exc} (board unplugged?)") from None

    def _recv(self, timeout: float):
        """The next response (Ident, Ack, Tokens, End, DeviceError), or None after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            if self._pending:
                return self._pending.pop(0)
            if time.monotonic() >= deadline:
                return None
            data = self._read_some()
            if data:
                for frame in self.decoder.feed(data):
                    r = P.parse(frame)
                    if isinstance(r, P.DeviceError):
                        self.device_errors.append(r)
                    self._pending.append(r)

    def _not_answering(self, what: str, since: tuple[int, int] = (0, 0)) -> BoardError:
        crc = self.decoder.crc_errors - since[0]
        stray = self.decoder.skipped - since[1]
        if crc or stray > 16:
            return BoardError(
                f"garbled replies from {self.port} while waiting for {what} ({crc} CRC "
                f"failures, {stray} stray bytes): is --baud {self.baud} the rate the "
                f"bitstream was built for?")
        return BoardError(
            f"the board on {self.port} is not answering ({what}: nothing within {self.timeout:g} s at "
            f"{self.baud} baud): check that it is programmed with a tritgpt bitstream, that this is its "
            f"UART port, and that --baud matches the bitstream (or --build names its build directory; "
            f"default {default_baud()})")

    def _flush_input(self, settle: float = 0.0) -> None:
        if settle:
            time.sleep(settle)
        self.ser.reset_input_buffer()
        self.decoder.reset()
        self._pending = []

    def _command(self, frame: bytes, want, what: str, retries: int = 3):
        """Send a command and return the first response for which want(r) is true.

        Device errors that mean "the frame did not arrive intact" are retried after
        the device's partial-frame timeout; BUSY and BAD_ARG are not retriable.
        """
        silent = 0
        since = (self.decoder.crc_errors, self.decoder.skipped)
        for attempt in range(retries + 1):
            self._write(frame)
            deadline = time.monotonic() + self.timeout
            error = None
            while (r := self._recv(deadline - time.monotonic())) is not None:
                if want(r):
                    return r
                if isinstance(r, P.DeviceError):
                    if r.code not in RETRIABLE:
                        raise BoardError(f"the board refused {what}: {r.describe()}")
                    # maybe about this frame, maybe about noise before it: give the
                    # answer a moment to arrive before sending the frame again
                    error = r
                    deadline = min(deadline, time.monotonic() + 0.25)
                # anything else (stale tokens of an abandoned run, ...) is skipped
            if error is None:
                silent += 1
                if silent > 1:   # silent twice: not a lost frame, a silent board
                    break
            self.log(f"retrying {what}" + (f" ({error.describe()})" if error else ""))
            self._flush_input(settle=2 * P.DEVICE_TIMEOUT_S)
        raise self._not_answering(what, since)

    # -- session --------------------------------------------------------------

    def sync(self) -> bool:
        """Bring the link to a known state: stop any run left by an earlier client and
        wait for its END. Returns True if a run was stopped."""
        self._flush_input()
        ack = self._command(P.cmd_stop(), lambda r: isinstance(r, P.Ack) and r.cmd == P.Cmd.STOP, "STOP")
        if ack.a:
            self._wait_end("the end of the stopped run")
        self._synced = True
        return bool(ack.a)

    def _ensure_synced(self) -> None:
        if not self._synced:
            self.sync()

    def _wait_end(self, what: str) -> P.End:
        while (r := self._recv(self.token_timeout)) is not None:
            if isinstance(r, P.End):
                return r
        raise self._not_answering(what)

    # -- commands -------------------------------------------------------------

    def identify(self) -> P.Ident:
        """IDENTIFY (does not disturb a run in progress)."""
        ident = self._command(P.cmd_identify(), lambda r: isinstance(r, P.Ident), "IDENTIFY")
        if ident.proto_version != P.PROTO_VERSION:
            raise BoardError(f"the board speaks protocol version {ident.proto_version}, this tritgpt "
                             f"speaks {P.PROTO_VERSION}: update tritgpt or the bitstream")
        self._ident = ident
        return ident

    @property
    def ident(self) -> P.Ident:
        return self._ident or self.identify()

    def check_weights(self, package_dir: str | Path) -> None:
        """Raise UserError unless the board runs the model of this weights package."""
        from ..ml.export import WeightsError, read_manifest

        try:
            manifest = read_manifest(Path(package_dir))
        except WeightsError as exc:
            raise UserError(str(exc)) from None
        want = manifest["model_hash"][:16]
        have = self.identify().model_hash
        if have != want:
            raise BoardError(f"wrong model: the board on {self.port} runs model {have}, but {package_dir} "
                             f"is model {want}; load it with `tritgpt load-weights --port {self.port} "
                             f"{package_dir}` or program a bitstream built with it")

    def stop(self) -> bool:
        """Stop a run in progress (waits for its END). Returns True if one was running."""
        ack = self._command(P.cmd_stop(), lambda r: isinstance(r, P.Ack) and r.cmd == P.Cmd.STOP, "STOP")
        if ack.a:
            self._wait_end("the end of the stopped run")
        return bool(ack.a)

    def _prompt_bytes(self, prompt) -> bytes:
        from ..ml.model import encode

        toks = encode(prompt) if isinstance(prompt, str) else [int(t) for t in prompt]
        if any(not 0 <= t < 128 for t in toks):
            raise UserError("prompt tokens must be ASCII codes 0..127")
        toks = toks[-self.ident.context:] or [ord("\n")]
        return bytes(toks)

    def _start(self, prompt, n: int, tinv: int, seed: int, bench: bool) -> float:
        if not 1 <= n <= P.MAX_TOKENS:
            raise UserError("the number of tokens must be between 1 and 65535")
        if not 0 <= tinv <= 0xFFFF:
            raise UserError("tinv must be between 0 and 65535")
        self._ensure_synced()
        frames = P.prompt_frames(self._prompt_bytes(prompt), n, tinv, seed & 0xFFFFFFFF, bench)
        t0 = time.monotonic()
        cmd = P.Cmd.BENCH if bench else P.Cmd.GENERATE
        for frame in frames[:-1]:
            self._command(frame, lambda r: isinstance(r, P.Ack) and r.cmd == P.Cmd.PROMPT, "PROMPT")
        for attempt in range(2):
            try:
                r = self._command(frames[-1], lambda r: isinstance(r, P.Ack) and r.cmd == cmd
                                  or isinstance(r, P.Tokens) and r.seq == 0, cmd.name)
                if isinstance(r, P.Tokens):   # the ACK was lost; this frame belongs to the stream
                    self._pending.insert(0, r)
                return t0
            except BoardError as exc:
                if attempt or "BUSY" not in str(exc):
                    raise
                self.log("the board was busy with another run: stopping it")
                self.sync()
        raise AssertionError("unreachable")

    def generate(self, prompt, n: int, temperature: float = 0.0, seed: int = 1, on_token=None,
                 tinv: int | None = None) -> GenerateResult:
        """Generate n tokens after `prompt` (str or token list); on_token(t) is called for each.

        temperature 0 is greedy; otherwise tinv = round(256 / temperature) as in
        tritgpt.ml.model.temperature_to_tinv (or pass tinv directly).
        """
        from ..ml.model import temperature_to_tinv

        if tinv is None:
            tinv = temperature_to_tinv(temperature)
        t0 = self._start(prompt, n, tinv, seed, bench=False)
        tokens: list[int] = []
        first = None
        try:
            while True:
                r = self._recv(self.token_timeout)
                if r is None:
                    raise self._not_answering(f"tokens ({len(tokens)} of {n} received)")
                if isinstance(r, P.Tokens):
                    if r.seq != len(tokens) & 0xFFFF:
                        lost = (r.seq - len(tokens)) & 0xFFFF
                        self._abort()
                        raise BoardError(f"{lost} token(s) lost after token {len(tokens)} (a frame failed its "
                                         f"CRC check: {self.decoder.crc_errors} so far); the output is "
                                         f"incomplete. Noisy link? Try a lower --baud")
                    if first is None:
                        first = time.monotonic()
                    tokens.extend(r.tokens)
                    if on_token is not None:
                        for t in r.tokens:
                            on_token(t)
                elif isinstance(r, P.End):
                    break
                elif isinstance(r, P.Ack) and r.cmd == P.Cmd.GENERATE:
                    continue
                # device errors during a run (noise on the rx line) do not affect the stream
        except KeyboardInterrupt:
            self._abort()
            raise
        t1 = time.monotonic()
        self._check_end(r, tokens)
        return GenerateResult(tokens, r, t1 - t0, (first or t1) - t0)

    def _check_end(self, end: P.End, tokens: list[int]) -> None:
        if end.tokens != len(tokens) & 0xFFFF:
            raise BoardError(f"the board produced {end.tokens} tokens but {len(tokens)} arrived: the last "
                             f"frame was lost (CRC failures: {self.decoder.crc_errors})")
        if end.token_crc != P.crc16(tokens):
            raise BoardError("the tokens received do not match the board's checksum of what it sent")

    def _abort(self) -> None:
        """Stop the run and swallow its remaining frames (bounded)."""
        try:
            self._write(P.cmd_stop())
            deadline = time.monotonic() + self.timeout + 1.0
            while time.monotonic() < deadline:
                r = self._recv(0.2)
                if isinstance(r, P.End):
                    return
        except UserError:
            pass
        self._synced = False

    def bench(self, n: int, prompt="\n", temperature: float = 0.0, seed: int = 1) -> dict:
        """Generate n tokens on the board without streaming them; the core's own timing."""
        from ..ml.model import temperature_to_tinv

        tinv = temperature_to_tinv(temperature)
        t0 = self._start(prompt, n, tinv, seed, bench=True)
        end = self._wait_end("the end of the bench run")
        wall = time.monotonic() - t0
        ident = self.ident
        return {
            "tokens": end.tokens,
            "cycles": end.cycles,
            "cycles_per_token": end.cycles / end.tokens if end.tokens else 0.0,
            "token_crc": end.token_crc,
            "stopped": end.stopped,
            "wall_seconds": wall,
            "clock_hz": ident.clk_hz,
            "baud": ident.baud,
            "model_hash": ident.model_hash,
        }

    def write_weights(self, package_dir: str | Path, progress=None) -> P.Ident:
        """Write every image of a weights package into the core, then check the model hash.

        progress(words_done, words_total) is called as blocks are acknowledged.
        """
        from ..ml.export import WeightsError, images, load_package, read_manifest

        package_dir = Path(package_dir)
        try:
            manifest = read_manifest(package_dir)
            params = load_package(package_dir)
        except WeightsError as exc:
            raise UserError(str(exc)) from None
        lanes = manifest["layout"]["lanes"]
        ident = self.identify()
        have = {k: v for k, v in params.cfg.to_dict().items() if k != "name"}
        if have != ident.config() or lanes != ident.lanes:
            raise BoardError(f"{package_dir} is for config {have} with {lanes} lanes, but the bitstream on "
                             f"{self.port} was built for {ident.config()} with {ident.lanes} lanes: "
                             f"runtime weight loading needs the same shapes; build a bitstream for it")
        self._ensure_synced()   # stops a run left behind by another client
        step = min(P.MAX_WRITE_WORDS, ident.max_write_words)
        blocks = []
        for stem, words in images(params, lanes).items():
            mem = P.mem_id(stem)
            words = [int(w) for w in words]
            for off in range(0, len(words), step):
                blocks.append((mem, off, words[off:off + step]))
        total = sum(len(b[2]) for b in blocks)
        self._write_blocks(blocks, total, progress)
        self._ident = None
        ident = self.identify()
        if ident.model_hash != params.digest()[:16]:
            # a core may latch its constants (and so the hash) only when a run starts:
            # one 1-token bench run refreshes them
            self.bench(1)
            ident = self.identify()
        if ident.model_hash != params.digest()[:16]:
            raise BoardError(f"after writing {package_dir}, the board reports model {ident.model_hash}, "
                             f"expected {params.digest()[:16]}: the core did not take the weights")
        return ident

    def _write_blocks(self, blocks, total: int, progress) -> None:
        """Send WRITE frames with up to WRITE_WINDOW unacknowledged; on any error or
        timeout, resend everything unacknowledged (writes are idempotent)."""
        nxt = 0                  # next block never sent
        unacked: dict = {}       # (mem, addr, n) -> index
        done_words = 0
        failures = 0
        while nxt < len(blocks) or unacked:
            while nxt < len(blocks) and len(unacked) < WRITE_WINDOW:
                mem, addr, words = blocks[nxt]
                self._write(P.cmd_write(mem, addr, words))
                unacked[(mem, addr, len(words))] = nxt
                nxt += 1
            r = self._recv(self.timeout)
            if isinstance(r, P.Ack) and r.cmd == P.Cmd.WRITE and (r.a, r.b, r.c) in unacked:
                del unacked[(r.a, r.b, r.c)]
                done_words += r.c
                if progress:
                    progress(done_words, total)
                continue
            if r is None or isinstance(r, P.DeviceError):
                if isinstance(r, P.DeviceError) and r.code not in RETRIABLE:
                    raise BoardError(f"the board refused a weight write: {r.describe()}")
                failures += 1
                if failures > 20:
                    raise self._not_answering("weight write acknowledgements")
                self.log(f"resending {len(unacked)} weight block(s)")
                self._flush_input(settle=2 * P.DEVICE_TIMEOUT_S)
                for mem, addr, n in sorted(unacked, key=unacked.get):
                    self._write(P.cmd_write(mem, addr, blocks[unacked[(mem, addr, n)]][2]))
