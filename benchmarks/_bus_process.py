"""Emulated buses in processes of their own: the hardware, out of reach of the load on this PC.

A servo bus answers on its own clock whatever the PC is doing. An emulator inside the measured
process, or at normal priority beside a load, would answer late and charge it to the driver; so
each BusProcess hosts one BusEmulator in a fresh interpreter (spawn), on SCHED_FIFO above the
control nodes where permitted (so101_hardware.realtime; the outcome is reported). A leader's
process can play a staircase: one joint steps a tick at a time through a triangle wave while a
second counts its half-waves, so each read of the leader carries a pair of values no other read
carries: the leader's record of the positions it reported says when each pair was read, the
follower's goal log when it landed. Both records are fetched at the end.
"""
from __future__ import annotations

import multiprocessing
import threading
import time
from dataclasses import dataclass, replace

from so101_hardware.emulator import BusEmulator, EmulatorConfig
from so101_hardware.realtime import DEFAULT_PRIORITY, apply_to_process

HARDWARE_PRIORITY = DEFAULT_PRIORITY + 10
"""Above the control nodes': the emulated servos answer on time whatever the nodes do, as real ones would."""
GOAL_LOG_LIMIT = 2_000_000
"""Goals (and reported positions) kept: a 200 Hz follower writes about 2,400 goals a second (6 motors, a
write per command and per tick); a 200 Hz leader reports 1,200 positions."""


@dataclass(frozen=True)
class Staircase:
    """Motor `wave` from `low` up to `high` and back, one tick per `step_s`; motor `counter` one tick up
    from its rest per half-wave, modulo `counter_values`; other joints at `rest`."""

    rest: dict[int, int]
    low: int
    high: int
    step_s: float
    wave: int = 1
    counter: int = 5
    counter_values: int = 100

    def positions(self, k: int) -> dict[int, int]:
        """The joints' ticks at step k: a (wave, counter) pair recurs only after 2 × counter_values half-waves."""
        span = self.high - self.low
        phase = k % (2 * span)
        wave = self.low + (phase if phase < span else 2 * span - phase)
        return {**self.rest, self.wave: wave, self.counter: self.rest[self.counter] + (k // span) % self.counter_values}


class BusProcess:
    """One emulated bus served by a child process; close() stops it."""

    def __init__(self, config: EmulatorConfig, priority: int = HARDWARE_PRIORITY):
        context = multiprocessing.get_context("spawn")
        self._connection, child = context.Pipe()
        picklable = replace(config, initial_positions=dict(config.initial_positions or {}) or None,
                            goal_log_limit=max(config.goal_log_limit, GOAL_LOG_LIMIT),
                            position_log_limit=max(config.position_log_limit, GOAL_LOG_LIMIT))
        self.process = context.Process(target=_serve, args=(picklable, priority, child), daemon=True)
        self.process.start()
        child.close()  # only the child holds its end now: its death ends recv() with EOFError
        try:
            self.port, self.scheduling = self._connection.recv()
        except EOFError:
            self.process.join()
            raise RuntimeError(f"the bus process for {config.link} exited with code {self.process.exitcode}") from None

    def play(self, staircase: Staircase) -> None:
        self._call("play", staircase)

    def hold(self) -> None:
        """Stop the staircase where it is."""
        self._call("hold", None)

    def goals(self) -> list[tuple[float, int, int]]:
        """(monotonic time, motor id, goal ticks) of every Goal_Position that reached a servo, in order
        (a sync write's records follow each other, in the packet's motor order)."""
        return self._call("goals", None)

    def positions(self) -> list[tuple[float, int, int]]:
        """(monotonic time, motor id, position ticks) of every Present_Position the servos reported, when
        its reply went out, in order (a sync read's records follow each other, in reply order)."""
        return self._call("positions", None)

    def counts(self) -> tuple[int, int]:
        """How many goals landed and positions were reported so far (cheap: for waiting on start-up)."""
        return self._call("counts", None)

    def close(self) -> None:
        if self.process.is_alive():
            self._call("close", None)
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()

    def __enter__(self) -> BusProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _call(self, command: str, argument):
        self._connection.send((command, argument))
        return self._connection.recv()


def _serve(config: EmulatorConfig, priority: int, connection) -> None:
    outcome = apply_to_process(priority)  # before the emulator's threads exist: they inherit it
    emulator = BusEmulator(config).start()
    connection.send((emulator.port, outcome.message))
    stop = threading.Event()
    player: threading.Thread | None = None
    try:
        while True:
            command, argument = connection.recv()
            if command == "play":
                stop.clear()
                player = threading.Thread(target=_play, args=(emulator, argument, stop), daemon=True)
                player.start()
                connection.send(None)
            elif command == "hold":
                stop.set()
                if player is not None:
                    player.join()
                connection.send(None)
            elif command == "goals":
                connection.send([(r.t_monotonic, r.motor_id, r.goal_ticks) for r in emulator.goal_log])
            elif command == "positions":
                connection.send([(r.t_monotonic, r.motor_id, r.position_ticks) for r in emulator.position_log])
            elif command == "counts":
                connection.send((len(emulator.goal_log), len(emulator.position_log)))
            elif command == "close":
                stop.set()
                emulator.stop()
                connection.send(None)
                return
    finally:
        emulator.stop()


def _play(emulator: BusEmulator, staircase: Staircase, stop: threading.Event) -> None:
    start, k = time.monotonic(), 0
    while not stop.is_set():
        emulator.set_leader_positions(staircase.positions(k))
        k += 1
        delay = start + k * staircase.step_s - time.monotonic()
        if delay > 0:
            time.sleep(delay)  # pacing, not synchronisation
