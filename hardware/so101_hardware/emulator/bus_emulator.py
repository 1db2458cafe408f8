"""BusEmulator: a bus of emulated STS3215 servos served on a real Linux pseudo-terminal.

One serving thread owns the pty. It blocks in poll() on the master fd and a wake-up pipe
(with a short timeout, so quiet periods still advance time for `wait_until`), frames incoming
bytes into packets, lets the dispatcher apply them, and writes each servo's status packet once
it would have crossed a real wire. Plugging and unplugging the bus run on that thread too, so
the fd it is waiting on is never closed under it.

All emulator state (servos, counters, goal log) is guarded by one re-entrant lock; test code
may read and poke servos while a driver talks to the bus. Sleeping to a reply deadline happens
outside the lock and uses time.sleep, never a busy loop: drivers are benchmarked beside it.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import queue
import random
import select
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence

from so101_calibration import ArmCalibration, read_calibration_file
from so101_hardware.control_table import STS3215_RESOLUTION, register
from so101_hardware.emulator.config import EmulatorConfig, FaultConfig
from so101_hardware.emulator.dispatch import Dispatcher, Reply
from so101_hardware.emulator.faults import FaultInjector, corrupt_checksum
from so101_hardware.emulator.joint import FollowerJoint, Joint, LeaderJoint
from so101_hardware.emulator.pty_port import PtyPort
from so101_hardware.emulator.reader import Incoming, PacketReader
from so101_hardware.emulator.records import EmulatorStats, GoalRecord, PositionRecord
from so101_hardware.emulator.servo import EmulatedServo
from so101_hardware.emulator.timing import byte_time_s, client_baudrate, reply_deadlines
from so101_hardware.emulator.trajectory import LeaderTrajectory, Waypoint, WaypointTrajectory
from so101_hardware.sts_protocol import Instruction, Packet

_log = logging.getLogger(__name__)

_IDLE_TICK_S = 0.05  # poll() timeout: how often a quiet bus re-checks stop and wakes waiters
_LIVENESS_CHECK_S = 0.5  # how often a caller waiting on the serving thread checks it is alive
_REST_JITTER_TICKS = 40


_PRESENT_POSITION = register("Present_Position")


def _reads_position(request: Packet) -> bool:
    """A READ or SYNC_READ whose data starts at Present_Position (a status packet's data follows 5 header bytes)."""
    return (request.code in (Instruction.READ, Instruction.SYNC_READ) and bool(request.params)
            and request.params[0] == _PRESENT_POSITION.address)


def _sleep_until(deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining > 0.0:
        time.sleep(remaining)


class BusEmulator:
    """An emulated SO-101 servo bus. Use as a context manager, or call start() and stop().

    Motor ids in this API are the ids the emulator was configured with: a servo keeps its
    identity when its ID register is changed over the bus.
    """

    def __init__(self, config: EmulatorConfig | None = None):
        self.config = config or EmulatorConfig()
        self._faults = self.config.faults.copy()
        self._injector = FaultInjector(self._faults, self.config.seed)
        self._lock = threading.RLock()
        self._changed = threading.Condition()
        self._stats = EmulatorStats()
        self._goal_log: deque[GoalRecord] = deque(maxlen=self.config.goal_log_limit)
        self._position_log: deque[PositionRecord] = deque(maxlen=self.config.position_log_limit)
        self._leader_joints: dict[int, LeaderJoint] = {}
        now = time.monotonic()
        self._servos = {motor_id: self._make_servo(motor_id, now) for motor_id in self.config.ids}
        if self.config.calibration:
            self._store_calibration(read_calibration_file(self.config.calibration))
        self._dispatcher = Dispatcher(tuple(self._servos.values()), self._stats)
        self._reader = PacketReader(self._stats)
        self._port = PtyPort(self.config.link)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._commands: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._wake_r = self._wake_w = -1
        self._line_free_at = 0.0  # when the last reply's final byte is on the wire
        self._started_at = 0.0
        self._power_cycles_done = 0  # of faults.power_cycle_at_s

    def _rest_position(self, motor_id: int) -> int:
        if self.config.initial_positions and motor_id in self.config.initial_positions:
            return self.config.initial_positions[motor_id]
        rng = random.Random(f"so101-rest:{self.config.seed}:{motor_id}")
        return STS3215_RESOLUTION // 2 + rng.randint(-_REST_JITTER_TICKS, _REST_JITTER_TICKS)

    def _store_calibration(self, calibration: ArmCalibration) -> None:
        """Write offsets and limits with Lock=0, as so101-calibrate does, so they persist."""
        for motor in calibration.motors.values():
            if motor.id not in self._servos:
                raise ValueError(f"calibration {self.config.calibration} names motor {motor.id}, not on this bus")
            servo = self._servos[motor.id]
            servo.write_register("Lock", 0)
            servo.write_register("Homing_Offset", motor.homing_offset)
            servo.write_register("Min_Position_Limit", motor.range_min)
            servo.write_register("Max_Position_Limit", motor.range_max)
            servo.write_register("Lock", 1)

    def _make_servo(self, motor_id: int, now: float) -> EmulatedServo:
        start = self._rest_position(motor_id)
        joint: Joint
        if self.config.role == "leader":
            leader = LeaderJoint(LeaderTrajectory(motor_id, start, self.config.seed), now)
            self._leader_joints[motor_id] = leader
            joint = leader
        else:
            joint = FollowerJoint(start, now)
        return EmulatedServo(
            motor_id,
            self.config.baudrate,
            joint,
            self.config.motor,
            clock=time.monotonic,
            lock=self._lock,
            noise=random.Random(f"so101-noise:{self.config.seed}:{motor_id}"),
            record_goal=self._goal_log.append,
            injected_errors=lambda: self._faults.error_bits.get(motor_id, 0),
            injected_stall=lambda: self._faults.stalls.get(motor_id),
        )

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> BusEmulator:
        """Create the pty (and link) and start serving. Raises pty_port.LinkError for a bad link."""
        if self._thread is not None:
            raise RuntimeError("the emulator is already running")
        self._port.open()
        self._wake_r, self._wake_w = os.pipe()
        self._stopping.clear()
        self._started_at = time.monotonic()
        self._thread = threading.Thread(target=self._serve, name="so101-bus-emulator", daemon=True)
        self._thread.start()
        _log.info(
            "emulating %s STS3215 servo(s) %s at %d baud on %s",
            self.config.role,
            ",".join(str(i) for i in self.config.ids),
            self.config.baudrate,
            self.port,
        )
        return self

    def stop(self) -> None:
        """Stop serving, close the pty and remove the link. Safe to call twice."""
        thread = self._thread
        if thread is None:
            return
        self._stopping.set()
        os.write(self._wake_w, b"\0")
        thread.join()
        self._thread = None
        self._port.release()
        os.close(self._wake_r)
        os.close(self._wake_w)
        self._notify()
        _log.info("bus emulator on %s stopped", self.config.link or self._port.slave_name)

    def __enter__(self) -> BusEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- observation ---------------------------------------------------------------------------

    @property
    def port(self) -> str:
        """What a driver opens: the link if configured, else the pty slave's name."""
        path = self._port.path
        if path is None:
            raise RuntimeError("the emulator has no port before start()")
        return path

    @property
    def faults(self) -> FaultConfig:
        """The live fault settings; change them at any time."""
        return self._faults

    @property
    def stats(self) -> EmulatorStats:
        with self._lock:
            return dataclasses.replace(self._stats)

    @property
    def goal_log(self) -> list[GoalRecord]:
        with self._lock:
            return list(self._goal_log)

    @property
    def position_log(self) -> list[PositionRecord]:
        """Present_Position values sent, when they went out (EmulatorConfig.position_log_limit; else empty)."""
        with self._lock:
            return list(self._position_log)

    def client_attached(self) -> bool:
        """Whether a client has the port open with an exclusive lock (FeetechBus, pyserial exclusive=True)."""
        attached: list[bool] = []
        self._on_serving_thread(lambda: attached.append(self._port.client_attached()))
        return attached[0]

    def servo(self, motor_id: int) -> EmulatedServo:
        try:
            return self._servos[motor_id]
        except KeyError:
            raise KeyError(f"no emulated servo {motor_id}; the bus has {self.config.ids}") from None

    def wait_until(self, predicate: Callable[[], bool], timeout_s: float) -> bool:
        """Wait until `predicate()` holds; re-checked after every packet and every quiet tick.

        Returns False on timeout. The predicate may read the emulator (stats, servos).
        """
        with self._changed:
            return self._changed.wait_for(predicate, timeout_s)

    # --- faults and manipulation ---------------------------------------------------------------

    def set_error_bits(self, motor_id: int, bits: int) -> None:
        """Make a motor report `bits` in its ERR byte and Status register."""
        self.servo(motor_id)
        if not 0 <= bits <= 0xFF:
            raise ValueError(f"error bits must fit in one byte, got {bits:#x}")
        with self._lock:
            self._faults.error_bits[motor_id] = int(bits)

    def clear_error_bits(self, motor_id: int) -> None:
        self.servo(motor_id)
        with self._lock:
            self._faults.error_bits.pop(motor_id, None)

    def unplug_motor(self, motor_id: int) -> None:
        """The motor stops hearing and answering anything (its state is kept)."""
        with self._lock:
            self.servo(motor_id).plugged = False

    def replug_motor(self, motor_id: int) -> None:
        with self._lock:
            self.servo(motor_id).plugged = True

    def stall_joint(self, motor_id: int, ticks: int) -> None:
        """Put an obstacle at actual encoder tick `ticks` in the motor's way (FaultConfig.stalls)."""
        self.servo(motor_id)
        if self.config.role != "follower":
            raise RuntimeError("stalls need a follower bus: a leader's shaft is moved by the hand, not its motor")
        if not 0 <= ticks < STS3215_RESOLUTION:
            raise ValueError(f"stall position {ticks} outside 0..{STS3215_RESOLUTION - 1}")
        with self._lock:
            self._faults.stalls[motor_id] = int(ticks)

    def release_joint(self, motor_id: int) -> None:
        """Take the obstacle away again."""
        self.servo(motor_id)
        with self._lock:
            self._faults.stalls.pop(motor_id, None)

    def unplug_bus(self) -> None:
        """The USB adapter vanishes: the pty closes (a client's next read or write fails) and
        the link is removed. Servo state is kept, as the servos stay powered."""

        def unplug() -> None:
            if self._port.master_fd is not None:
                self._port.close()
                with self._lock:
                    self._reader.discard_partial()

        self._on_serving_thread(unplug)
        _log.info("bus unplugged")

    def replug_bus(self) -> None:
        """The adapter comes back: a new pty, the link re-pointed to it. Clients must reopen
        (without a link, `port` is a new /dev/pts name)."""

        def replug() -> None:
            if self._port.master_fd is None:
                self._port.open()

        self._on_serving_thread(replug)
        _log.info("bus replugged on %s", self.port)

    def set_leader_positions(self, positions: Mapping[int, int]) -> None:
        """Leader role: hold these joints at explicit actual ticks until resume_trajectory()."""
        self._require_leader()
        with self._lock:
            for motor_id, ticks in positions.items():
                self.servo(motor_id).actual_position = ticks

    def play_leader_script(self, script: Mapping[int, Sequence[Waypoint]], loop: bool = True) -> None:
        """Leader role: each listed joint moves through its waypoints from where it is now.

        A scripted operator (e.g. a pick-and-place) instead of the random hand; joints not in
        `script` keep what they were doing.
        """
        self._require_leader()
        now = time.monotonic()
        with self._lock:
            for motor_id, waypoints in script.items():
                joint = self._leader_joints[motor_id]
                start = self.servo(motor_id).actual_position
                joint.follow(WaypointTrajectory(start, list(waypoints), loop), now)

    def resume_trajectory(self) -> None:
        """Leader role: hand every joint back to the scripted trajectory."""
        self._require_leader()
        with self._lock:
            for joint in self._leader_joints.values():
                joint.release()

    def power_cycle(self) -> None:
        """Switch the servos off and on (a brown-out): RAM reset, EEPROM as persisted, torque off."""
        with self._lock:
            for servo in self._servos.values():
                servo.power_cycle()
            self._stats.power_cycles += 1
        _log.info("servos power-cycled: RAM reset, torque off")
        self._notify()

    def _power_cycle_when_due(self) -> None:
        """The brown-outs of faults.power_cycle_at_s whose time has come (serving thread)."""
        due = self._faults.power_cycle_at_s
        elapsed = time.monotonic() - self._started_at
        while self._power_cycles_done < len(due) and due[self._power_cycles_done] <= elapsed:
            self._power_cycles_done += 1
            self.power_cycle()

    def _require_leader(self) -> None:
        if self.config.role != "leader":
            raise RuntimeError("only a leader-role emulator has a scripted hand to override")

    # --- serving thread ------------------------------------------------------------------------

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def _on_serving_thread(self, action: Callable[[], None]) -> None:
        """Run `action` on the serving thread (which owns the pty) and wait for it."""
        thread = self._thread
        if thread is None:
            raise RuntimeError("start() the emulator first")
        if threading.current_thread() is thread:
            action()
            return
        done = threading.Event()
        failures: list[BaseException] = []

        def run() -> None:
            try:
                action()
            except BaseException as error:  # handed to the caller, re-raised there
                failures.append(error)
            finally:
                done.set()

        self._commands.put(run)
        os.write(self._wake_w, b"\0")
        while not done.wait(_LIVENESS_CHECK_S):
            if not thread.is_alive():
                raise RuntimeError("the emulator's serving thread has stopped")
        if failures:
            raise failures[0]

    def _run_commands(self) -> None:
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            command()

    def _serve(self) -> None:
        try:
            while not self._stopping.is_set():
                self._run_commands()
                self._power_cycle_when_due()
                master = self._port.master_fd
                poller = select.poll()  # rebuilt each turn: unplug/replug changes the master fd
                poller.register(self._wake_r, select.POLLIN)
                if master is not None:
                    poller.register(master, select.POLLIN)
                ready = {fd for fd, _ in poller.poll(_IDLE_TICK_S * 1000)}
                if self._wake_r in ready:
                    os.read(self._wake_r, 512)
                if master in ready:
                    self._receive(master)
                elif not ready:
                    with self._lock:
                        self._reader.discard_partial()  # the line has been quiet for a whole tick
                self._notify()
        finally:
            self._run_commands()

    def _receive(self, master: int) -> None:
        data = self._port.read()
        if not data:
            return
        arrived = time.monotonic()
        baud = client_baudrate(master)
        with self._lock:
            incoming = self._reader.feed(data)
        for item in incoming:
            try:
                self._handle(item, arrived, baud)
            except Exception:  # one bad packet must not take the bus down
                _log.exception("emulator failed to handle %s", item.packet)

    def _handle(self, item: Incoming, arrived: float, client_baud: int | None) -> None:
        with self._lock:
            replies = self._dispatcher.handle(item.packet, client_baud)
            if item.packet.code == Instruction.SYNC_READ:
                reordered = self._injector.reorder(replies)
                if reordered is not None:
                    replies = reordered
                    self._stats.reordered += 1
            schedule = self._schedule(replies, item.wire_bytes, max(arrived, self._line_free_at))
        log_positions = self.config.position_log_limit and _reads_position(item.packet)
        for (deadline, packet), reply in zip(schedule, replies, strict=True):
            _sleep_until(deadline)
            if packet is None:
                continue
            written_at = time.monotonic()  # before the write: the client cannot have the reply any earlier
            sent = self._port.write(packet)
            with self._lock:
                if sent:
                    self._stats.replies_out += 1
                    if log_positions and packet == reply.packet:  # not a deliberately corrupted one
                        self._position_log.append(PositionRecord(written_at, reply.servo.motor_id,
                                                                 _PRESENT_POSITION.decode(packet[5:7])))
                else:
                    self._stats.overflow += 1
        with self._lock:
            self._stats.packets_handled += 1
        self._notify()

    def _schedule(self, replies: list[Reply], request_bytes: int, start: float) -> list[tuple[float, bytes | None]]:
        """(deadline, bytes or None if dropped) per reply: wire timing plus injected faults."""
        if not replies:
            # A request nobody answers (SYNC_WRITE, broadcast WRITE) still occupies the wire for
            # its own bytes: the next request cannot start before it has gone out.
            if self.config.uart_timing:
                self._line_free_at = start + request_bytes * byte_time_s(self.config.baudrate)
            return []
        if self.config.uart_timing:
            baud = replies[0].servo.baudrate or self.config.baudrate
            sizes = [(len(reply.packet), reply.servo.return_delay_s) for reply in replies]
            deadlines = reply_deadlines(start, request_bytes, sizes, baud)
        else:
            deadlines = [start] * len(replies)
        schedule: list[tuple[float, bytes | None]] = []
        spike_total = 0.0
        for reply, deadline in zip(replies, deadlines, strict=True):
            spike = self._injector.spike_s()
            if spike:
                self._stats.latency_spikes += 1
                spike_total += spike
            packet: bytes | None = reply.packet
            if self._injector.drop():
                self._stats.dropped += 1
                packet = None
            elif self._injector.corrupt():
                self._stats.corrupted += 1
                packet = corrupt_checksum(reply.packet)
            schedule.append((deadline + spike_total, packet))
        self._line_free_at = schedule[-1][0]
        return schedule
