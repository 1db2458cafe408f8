"""so101-bus-emulator: serve an emulated SO-101 servo bus on a pty until SIGINT or SIGTERM.

Prints one line on stdout (the port to open and how to stop) so scripts can wait for it;
everything else goes to the log on stderr. Exits 0 after a signal, 2 on bad arguments or an
unusable --link path, with a one-line message instead of a traceback.

The emulator outlives its clients: Ctrl-C in a terminal (or `ros2 launch` stopping) signals the
arm nodes and the emulator at once, and a node releases torque over the bus as it stops. So the
first SIGINT or SIGTERM makes it serve on until no client holds the port (FeetechBus locks it),
at most --linger-s, then stop. More SIGINTs are ignored meanwhile (a terminal's Ctrl-C reaches
the whole process group, and `ros2 launch` then sends its own); a SIGTERM, what launch escalates
to, stops it at once. SIGUSR1 power-cycles the servos (a brown-out), to try a graph's fault
handling by hand.
"""
from __future__ import annotations

import argparse
import logging
import queue
import signal
import sys
import time
from collections.abc import Sequence

from so101_calibration import CalibrationError
from so101_hardware.control_table import BAUD_INDEX_BY_RATE
from so101_hardware.emulator.bus_emulator import BusEmulator
from so101_hardware.emulator.config import ROLES, EmulatorConfig, FaultConfig
from so101_hardware.emulator.pty_port import LinkError

_PROG = "so101-bus-emulator"
_CLIENT_POLL_S = 0.05
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_log = logging.getLogger(_PROG)


def _ids(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers like 1,2,3, got {text!r}") from None


def _error_bits(text: str) -> tuple[int, int]:
    motor, sep, mask = text.partition(":")
    try:
        if not sep:
            raise ValueError
        return int(motor), int(mask, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ID:MASK like 3:0x20, got {text!r}") from None


def _stall(text: str) -> tuple[int, int]:
    motor, sep, ticks = text.partition(":")
    try:
        if not sep:
            raise ValueError
        return int(motor), int(ticks)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ID:TICKS like 6:2300, got {text!r}") from None


def _initial_positions(text: str) -> dict[int, int]:
    try:
        return {int(motor): int(ticks) for motor, _, ticks in (part.partition(":") for part in text.split(",") if part)}
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ID:TICKS pairs like 1:2048,2:1500, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_PROG, description="Emulate an SO-101 STS3215 servo bus on a pseudo-terminal."
    )
    parser.add_argument("--link", help="create this symlink to the pty (e.g. /tmp/so101_follower); removed on exit")
    parser.add_argument("--ids", type=_ids, default=(1, 2, 3, 4, 5, 6), help="servo ids (default 1,2,3,4,5,6)")
    parser.add_argument(
        "--baud",
        type=int,
        default=1_000_000,
        choices=sorted(BAUD_INDEX_BY_RATE),
        metavar="RATE",
        help="servo baud rate, one of Feetech's: " + ", ".join(str(r) for r in sorted(BAUD_INDEX_BY_RATE)),
    )
    parser.add_argument(
        "--role", choices=ROLES, default="follower", help="follower tracks goals; leader is moved by a scripted hand"
    )
    parser.add_argument("--no-uart-timing", action="store_true", help="answer at once instead of after real wire time")
    parser.add_argument("--drop-rate", type=float, default=0.0, help="probability a reply is lost")
    parser.add_argument("--corrupt-rate", type=float, default=0.0, help="probability a reply has a bad checksum")
    parser.add_argument(
        "--error-bits",
        type=_error_bits,
        action="append",
        default=[],
        metavar="ID:MASK",
        help="motor ID reports these ERR bits, e.g. 3:0x20 for overload (repeatable)",
    )
    parser.add_argument("--latency-spike-rate", type=float, default=0.0, help="probability a reply is delayed")
    parser.add_argument("--latency-spike-ms", type=float, default=50.0, help="delay of a latency spike (default 50 ms)")
    parser.add_argument(
        "--reorder-rate", type=float, default=0.0, help="probability the answers of one SYNC_READ come in another order"
    )
    parser.add_argument(
        "--initial-positions", type=_initial_positions, metavar="ID:TICKS,...",
        help="encoder ticks the servos start at, e.g. 1:2048,2:1500 (default: a seeded rest pose near mid-range)",
    )
    parser.add_argument(
        "--power-cycle-at", type=float, action="append", default=[], metavar="SECONDS",
        help="switch every servo off and on (a brown-out: torque off, RAM reset) this long after start (repeatable)",
    )
    parser.add_argument(
        "--stall", type=_stall, action="append", default=[], metavar="ID:TICKS",
        help="follower: motor ID's shaft cannot pass encoder tick TICKS (an object in the gripper; repeatable)",
    )
    parser.add_argument(
        "--linger-s", type=float, default=3.0,
        help="after SIGINT/SIGTERM, serve up to this long until clients let go of the port (default 3; "
             "a SIGTERM then stops at once)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for faults, leader trajectory and sensor noise")
    parser.add_argument(
        "--calibration", metavar="FILE", help="LeRobot calibration file whose offsets and limits the servos hold"
    )
    return parser


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    """Raises ValueError for values the emulator rejects."""
    faults = FaultConfig(
        drop_reply_rate=args.drop_rate,
        corrupt_checksum_rate=args.corrupt_rate,
        latency_spike_rate=args.latency_spike_rate,
        latency_spike_s=args.latency_spike_ms / 1000.0,
        error_bits=dict(args.error_bits),
        reorder_sync_read_rate=args.reorder_rate,
        power_cycle_at_s=tuple(args.power_cycle_at),
        stalls=dict(args.stall),
    )
    return EmulatorConfig(
        ids=args.ids,
        baudrate=args.baud,
        uart_timing=not args.no_uart_timing,
        role=args.role,
        link=args.link,
        seed=args.seed,
        calibration=args.calibration,
        initial_positions=args.initial_positions,
        faults=faults,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as error:
        parser.error(str(error))
    if args.linger_s < 0:
        parser.error(f"--linger-s must be >= 0, got {args.linger_s}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    signals: queue.SimpleQueue[int] = queue.SimpleQueue()  # put() is safe in a signal handler
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1):
        signal.signal(signum, lambda number, _frame: signals.put(number))
    try:
        emulator = BusEmulator(config).start()
    except (LinkError, CalibrationError, ValueError) as error:
        parser.exit(2, f"{_PROG}: error: {error}\n")
    try:
        print(
            f"{_PROG}: {len(config.ids)} {config.role} servo(s) on {emulator.port} at {config.baudrate} baud; "
            "stop with Ctrl-C or SIGTERM, brown-out with SIGUSR1",
            flush=True,
        )
        while _next_signal(emulator, signals, timeout_s=1.0) not in _STOP_SIGNALS:
            pass
        _wait_for_clients(emulator, signals, args.linger_s)
    finally:
        emulator.stop()
    return 0


def _next_signal(emulator: BusEmulator, signals: queue.SimpleQueue, timeout_s: float) -> int | None:
    """The next signal received within timeout_s (SIGUSR1 power-cycles the servos), or None.

    Waiting with a timeout, in slices, keeps the main thread returning to Python, where handlers run.
    """
    try:
        number = signals.get(timeout=timeout_s)
    except queue.Empty:
        return None
    if number == signal.SIGUSR1:
        emulator.power_cycle()
    return number


def _wait_for_clients(emulator: BusEmulator, signals: queue.SimpleQueue, linger_s: float) -> None:
    """Keep serving until no client holds the port, `linger_s` passes, or a SIGTERM comes."""
    deadline = time.monotonic() + linger_s
    while emulator.client_attached() and time.monotonic() < deadline:
        if _next_signal(emulator, signals, _CLIENT_POLL_S) == signal.SIGTERM:
            return  # launch escalating, or an operator insisting: stop now
    if emulator.client_attached():
        _log.warning("a client still holds %s after %.1f s: stopping anyway", emulator.port, linger_s)


if __name__ == "__main__":
    sys.exit(main())
