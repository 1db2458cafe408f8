"""Soak: teleop and deploy on emulated arms while faults are injected at random (issue 15).

Run as `python benchmarks/fault_soak.py` (10 minutes; `--seconds 30` for a smoke test). Two graphs
run through GraphRunner, as `so101 run` runs them, each on its own ROS domain:
  - teleop: the emulated leader and follower, the teleop node (engaged), and a recorder writing
    joint states and commands to an HDF5 file, episodes started and stopped every few seconds;
  - deploy: the emulated follower, two synthetic cameras and the inference node, driven by
    `so101-policy-server --backend replay` in a process of its own (so it can be killed and its
    memory read), replaying a slow recorded motion.
After a fault-free baseline, one fault at a time is injected at random (seeded; every kind once
per round, in a random order, with random targets), each followed by what an operator does
(follower/reenable, teleop/engage) once it is over:

  drops, corruption   a burst of lost or corrupted replies on one bus
  unplug              a follower's USB adapter vanishes for a second (latches it off)
  brown_out           every servo of a follower reboots (RAM reset, torque off: latches it off)
  overload            a follower servo reports overload for a second (latches it off)
  gripper_stall       the teleop follower's gripper closes on an object (the grasp guard backs off)
  leader_loss         the leader's adapter vanishes for a second (the follower holds)
  server_killed       the policy server is SIGKILLed, then restarted on its port
  hostile             a burst of hostile requests (allocation bombs, multipart, no token, mutations)

Per kind: injected, detected (the stack noticed: a latched fault, counters, error replies) and
recovered (back to normal after the operator's action). Invariants, from the emulators' own
record of every goal: goals beyond the follower's limits (must be 0) and goal steps above the
safety filter's velocity limit (must be 0); demos lost (episodes the recorder said it saved, or
was recording at shutdown, missing from the file: must be 0); the policy server's peak memory
(VmHWM, across restarts). Baseline in the same run: the teleop follower's state rate and the
deploy follower's goal rate, fault-free, against the same during the soak. Exits 1 if an
invariant is broken. Prints a table, then one JSON line.
"""
from __future__ import annotations

import argparse
import bisect
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import msgpack
import numpy as np
import zmq

sys.path.insert(0, str(Path(__file__).parent))
from _emulator_process import LOCAL_DISCOVERY  # noqa: E402

os.environ.update(LOCAL_DISCOVERY)  # before any participant exists

from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.node import Node  # noqa: E402
from std_srvs.srv import SetBool, Trigger  # noqa: E402

from so101_bringup.arguments import DeployArgs, TeleopArgs  # noqa: E402
from so101_bringup.catalog import HARDWARE, SIM_BRIDGE  # noqa: E402
from so101_bringup.graph_spec import Graph, NodeSpec  # noqa: E402
from so101_bringup.launch_graphs import ARM_PARAMETERS, deploy_graph, link_parameters, teleop_graph  # noqa: E402
from so101_bringup.runner import GraphRunner  # noqa: E402
from so101_bringup.share import config_path  # noqa: E402
from so101_calibration import RADIANS_PER_TICK, radians_to_ticks, read_calibration_file, ticks_to_radians  # noqa: E402
from so101_calibration.interface_contract import (  # noqa: E402
    FOLLOWER_REENABLE,
    RECORDER_START,
    RECORDER_STOP,
    TELEOP_ENGAGE,
)
from so101_hardware.emulator import BusEmulator  # noqa: E402
from so101_hardware.ros.endpoints import client  # noqa: E402
from so101_hardware.sts_protocol import ServoErrorBits  # noqa: E402
from so101_hardware.teleop import TeleopState  # noqa: E402
from so101_policy.wire.codec import pack, unpack  # noqa: E402
from so101_policy.wire.envelope import request  # noqa: E402
from so101_policy.wire.generations import Protocol  # noqa: E402

FOLLOWER_CAL = config_path("calibration", "emulated_follower.json")
KINDS = ("drops", "corruption", "unplug", "brown_out", "overload", "gripper_stall", "leader_loss", "server_killed",
         "hostile")
DETECT_S = 6.0
RECOVER_S = 20.0
FAULT_S = 1.2  # how long a timed fault lasts
POLL_S = 0.05
FPS = 30.0
API_TOKEN = "soak"
EPISODE_S = (6.0, 12.0)
MB = 1024 * 1024


def wait_for(condition: Callable[[], bool], timeout_s: float) -> bool:
    """Poll `condition` until it holds or the time is up (a benchmark may poll; tests wait on events)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL_S)
    return True


# --- the rigs -----------------------------------------------------------------------------------


class Rig:
    """A running graph and a probe node of its own (service calls), on the graph's ROS domain."""

    def __init__(self, graph: Graph, domain_id: int):
        self.runner = GraphRunner(graph, domain_id=domain_id).start()
        self.probe = Node("soak_probe", context=self.runner.context)
        self.executor = SingleThreadedExecutor(context=self.runner.context)
        self.executor.add_node(self.probe)
        self.clients: dict[str, object] = {}
        self.thread = threading.Thread(target=self.executor.spin, daemon=True)
        self.thread.start()

    def call(self, service, request_message, timeout_s: float = 10.0):
        if service.name not in self.clients:
            self.clients[service.name] = client(self.probe, service)
        service_client = self.clients[service.name]
        if not service_client.wait_for_service(timeout_sec=timeout_s):
            return None
        done = threading.Event()
        future = service_client.call_async(request_message)
        future.add_done_callback(lambda _f: done.set())
        return future.result() if done.wait(timeout_s) else None

    def close(self) -> None:
        self.executor.shutdown(timeout_sec=5)
        self.thread.join(timeout=5)
        self.probe.destroy_node()
        self.runner.stop()


def teleop_rig_graph(tmp: Path, hdf5_path: Path, seed: int) -> Graph:
    """The teleop graph with a small synthetic wrist camera and a recorder (HDF5 only) of the follower."""
    args = TeleopArgs(emulate=True, emulator_dir=str(tmp), cameras=False, emulator_seed=seed)
    camera = NodeSpec(HARDWARE, "camera_node", "camera_wrist", parameters={
        "name": "wrist", "source": "synthetic", "width": 256, "height": 32, "fps": 15.0})
    recorder = NodeSpec(SIM_BRIDGE, "recorder_node", "recorder", parameters={
        "hdf5_path": str(hdf5_path), "lerobot_root": "", "cameras": ("wrist",), "keyboard": False,
        "instruction": "soak", "fps": 15, "max_latency_s": 0.3})
    graph = link_parameters(teleop_graph(args) + Graph((camera, recorder)), "follower", "recorder", ARM_PARAMETERS)
    return graph.with_parameters([("teleop", "engage_on_start", True)])


def deploy_rig_graph(tmp: Path, port: int, seed: int) -> Graph:
    graph = deploy_graph(DeployArgs(emulate=True, emulator_dir=str(tmp), policy_port=port, emulator_seed=seed))
    small_frames = [(f"camera_{name}", key, value) for name in ("front", "wrist")
                    for key, value in (("width", 256), ("height", 96))]
    inference = [("inference", "run_on_start", True), ("inference", "api_token", API_TOKEN),
                 ("inference", "timeout_s", 0.5), ("inference", "instruction", "soak")]
    return graph.with_parameters([*small_frames, *inference])


class PolicyServerProcess:
    """so101-policy-server (replay backend) in a process of its own, on a fixed port across restarts."""

    def __init__(self, dataset: Path, port: int):
        self.command = [sys.executable, "-m", "so101_policy.server.cli", "--backend", "replay", "--dataset",
                        str(dataset), "--protocol", "n1.7", "--policy-units", "degrees", "--calibration",
                        str(FOLLOWER_CAL), "--port", str(port), "--api-token", API_TOKEN]
        self.port = port
        self.peak_mb = 0.0
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if "tcp://" not in (self.process.stdout.readline() or ""):
            raise RuntimeError("the policy server did not start")

    def sample_memory(self) -> None:
        """Note the process's peak resident memory so far (VmHWM)."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_mb = max(self.peak_mb, int(line.split()[1]) / 1024)
        except OSError:
            pass

    def kill(self) -> None:
        self.sample_memory()
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.process.stdout.close()

    def stop(self) -> None:
        self.sample_memory()
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()


def write_replay_dataset(path: Path, seconds: float) -> Path:
    """A slow motion from the emulated follower's rest pose, out and back (any two poses < 30° apart)."""
    calibration = read_calibration_file(FOLLOWER_CAL)
    rest = ticks_to_radians(calibration, np.full(6, 2048))
    t = np.arange(round(seconds * FPS))[:, np.newaxis] / FPS
    actions = rest + np.array([1.0, -1.0, 1.0, -1.0, 1.0, 1.0]) * 0.15 * (1 - np.cos(2 * np.pi * t / 6.0))
    with h5py.File(path, "w") as file:
        demo = file.create_group("data").create_group("demo_0")
        demo.create_dataset("actions", data=actions.astype(np.float32))
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- invariants, from the emulators' own record of goals ------------------------------------------


@dataclass
class GoalWatch:
    """Every goal a follower's servos received: within the filter's limits, steps within its velocity limit."""

    name: str
    emulator: BusEmulator
    lower: np.ndarray  # ticks
    upper: np.ndarray
    max_step_ticks: float
    checked_until: float = float("-inf")
    last: dict[int, tuple[int, bool]] = field(default_factory=dict)  # motor → (goal, torque on) of its last goal
    goals: int = 0
    beyond_limits: int = 0
    steps_above_limit: int = 0

    @classmethod
    def of(cls, name: str, rig: Rig) -> GoalWatch:
        follower = rig.runner.node("follower")
        calibration = follower.connected.calibration
        limits = follower.controller.limits
        max_step_rad = follower.config.max_velocity_rad_s * limits.velocity_burst_s
        return cls(name, rig.runner.emulator("follower"), radians_to_ticks(calibration, limits.lower),
                   radians_to_ticks(calibration, limits.upper), max_step_rad / RADIANS_PER_TICK + 2)

    def check(self) -> None:
        records = self.emulator.goal_log
        start = bisect.bisect_right([r.t_monotonic for r in records], self.checked_until)
        for record in records[start:]:
            joint = record.motor_id - 1
            self.goals += 1
            if not self.lower[joint] <= record.goal_ticks <= self.upper[joint]:
                self.beyond_limits += 1
            previous = self.last.get(record.motor_id)
            # A goal written while torque is off (enabling torque seeds the goal at the present pose)
            # moves nothing; every goal between two torque-on goals passed the filter's velocity limit.
            if previous is not None and previous[1] and record.torque_enabled:
                if abs(record.goal_ticks - previous[0]) > self.max_step_ticks:
                    self.steps_above_limit += 1
            self.last[record.motor_id] = (record.goal_ticks, record.torque_enabled)
        if len(records) > start:
            self.checked_until = records[-1].t_monotonic


# --- faults ---------------------------------------------------------------------------------------


@dataclass
class Tally:
    injected: Counter = field(default_factory=Counter)
    detected: Counter = field(default_factory=Counter)
    recovered: Counter = field(default_factory=Counter)
    detect_s: dict[str, list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def note(self, kind: str, detected: bool, recovered: bool, detect_s: float | None, detail: str) -> None:
        self.injected[kind] += 1
        self.detected[kind] += detected
        self.recovered[kind] += recovered
        if detected and detect_s is not None:
            self.detect_s.setdefault(kind, []).append(detect_s)
        if not (detected and recovered):
            self.notes.append(f"{kind} ({detail}): detected {detected}, recovered {recovered}")


class Soak:
    def __init__(self, teleop: Rig, deploy: Rig, server: PolicyServerProcess, rng: random.Random):
        self.teleop, self.deploy, self.server, self.rng = teleop, deploy, server, rng
        self.tally = Tally()
        self.hostile_requests = 0

    # --- what an operator does, and what they look at --------------------------------------------

    def followers(self) -> list[tuple[str, Rig]]:
        return [("teleop follower", self.teleop), ("deploy follower", self.deploy)]

    def reenable(self, rig: Rig) -> bool:
        """Once the arm is back on its port, follower/reenable until it is accepted (a servo error may
        take a moment to clear), as an operator would retry."""
        follower = rig.runner.node("follower")
        if not wait_for(lambda: follower.arm.bus.is_open, RECOVER_S):
            return False
        deadline = time.monotonic() + RECOVER_S
        while follower.controller.fault is not None and time.monotonic() < deadline:
            response = rig.call(FOLLOWER_REENABLE, Trigger.Request())
            if response is None or not response.success:
                time.sleep(0.5)
        return follower.controller.fault is None

    def mirroring(self) -> bool:
        """teleop/engage (once the follower's fault has cleared on follower/fault), until it mirrors."""
        teleop = self.teleop.runner.node("teleop")
        if not wait_for(lambda: not teleop.follower_fault, RECOVER_S):
            return False
        if teleop.mapper.state is TeleopState.DISENGAGED:
            self.teleop.call(TELEOP_ENGAGE, SetBool.Request(data=True))
        return wait_for(lambda: teleop.mapper.state is TeleopState.MIRRORING, RECOVER_S)

    def driven(self, rig: Rig, since: float) -> bool:
        """The follower's servos received changing goals after `since` (mirroring, or the policy driving)."""
        emulator = rig.runner.emulator("follower")

        def moving() -> bool:
            recent = [r.goal_ticks for r in emulator.goal_log[-600:] if r.t_monotonic > since and r.motor_id == 1]
            return len(set(recent)) > 1
        return wait_for(moving, RECOVER_S)

    def back_to_normal(self, name: str, rig: Rig) -> bool:
        fault = rig.runner.node("follower").controller.fault
        if fault is not None and not self.reenable(rig):
            return False
        if rig is self.teleop and not self.mirroring():
            return False
        return self.driven(rig, time.monotonic())

    # --- one fault ----------------------------------------------------------------------------------

    def inject(self, kind: str) -> None:
        getattr(self, f"_{kind}")(kind)

    def _bus_burst(self, kind: str, rate_field: str, counter: str) -> None:
        name, rig, role = self.rng.choice([(n, r, "follower") for n, r in self.followers()]
                                          + [("leader", self.teleop, "leader")])
        node = rig.runner.node(role)
        before = getattr(node.arm.bus.stats, counter)
        setattr(rig.runner.emulator(role).faults, rate_field, 0.5)
        started = time.monotonic()
        detected = wait_for(lambda: getattr(node.arm.bus.stats, counter) > before, DETECT_S)
        detect_s = time.monotonic() - started
        time.sleep(max(0.0, FAULT_S - (time.monotonic() - started)))
        setattr(rig.runner.emulator(role).faults, rate_field, 0.0)
        if role == "leader":
            recovered = (wait_for(lambda: node.health().level == b"\x00", RECOVER_S)
                         and self.driven(self.teleop, time.monotonic()))
        else:
            recovered = self.back_to_normal(name, rig)
        self.tally.note(kind, detected, recovered, detect_s, name)

    def _drops(self, kind: str) -> None:
        self._bus_burst(kind, "drop_reply_rate", "timeouts")

    def _corruption(self, kind: str) -> None:
        self._bus_burst(kind, "corrupt_checksum_rate", "checksum_errors")

    def _latching(self, kind: str, name: str, rig: Rig, start: Callable[[], None], end: Callable[[], None],
                  expect: str) -> None:
        controller = rig.runner.node("follower").controller
        started = time.monotonic()
        start()
        detected = wait_for(lambda: expect in (controller.fault or ""), DETECT_S)
        detect_s = time.monotonic() - started
        time.sleep(max(0.0, FAULT_S - (time.monotonic() - started)))
        end()
        recovered = self.back_to_normal(name, rig)
        self.tally.note(kind, detected, recovered, detect_s, name)

    def _unplug(self, kind: str) -> None:
        name, rig = self.rng.choice(self.followers())
        emulator = rig.runner.emulator("follower")
        self._latching(kind, name, rig, emulator.unplug_bus, emulator.replug_bus, "serial port lost")

    def _brown_out(self, kind: str) -> None:
        name, rig = self.rng.choice(self.followers())
        self._latching(kind, name, rig, rig.runner.emulator("follower").power_cycle, lambda: None, "rebooted")

    def _overload(self, kind: str) -> None:
        name, rig = self.rng.choice(self.followers())
        emulator, motor = rig.runner.emulator("follower"), self.rng.randint(1, 6)
        self._latching(kind, name, rig, lambda: emulator.set_error_bits(motor, ServoErrorBits.OVERLOAD),
                       lambda: emulator.clear_error_bits(motor), "reports overload")

    def _gripper_stall(self, kind: str) -> None:
        """The operator closes the gripper on an object: the guard backs it off before the servo's own
        overload protection trips (detected: the guard tripped; recovered: no servo fault, and the
        gripper free again once the operator opens it)."""
        follower = self.teleop.runner.node("follower")
        controller = follower.controller
        follower_bus, leader_bus = self.teleop.runner.emulator("follower"), self.teleop.runner.emulator("leader")
        if not self.mirroring():
            self.tally.note(kind, False, False, None, "teleop would not engage")
            return
        present = follower_bus.servo(6).actual_position
        lower, upper = (int(v[5]) for v in (GoalWatch.of("teleop", self.teleop).lower,
                                             GoalWatch.of("teleop", self.teleop).upper))
        direction = -1 if present - lower > upper - present else 1
        obstacle = present + direction * 40
        before = controller.counters["gripper_backed_off"]
        follower_bus.stall_joint(6, obstacle)
        leader_bus.set_leader_positions({6: leader_bus.servo(6).actual_position + direction * 500})  # squeeze
        started = time.monotonic()
        detected = wait_for(lambda: controller.counters["gripper_backed_off"] > before, DETECT_S)
        detect_s = time.monotonic() - started
        time.sleep(1.0)  # keep squeezing: the guard holds the gripper off
        protected = controller.fault is None and not follower_bus.servo(6).read_register("Status")
        leader_bus.set_leader_positions({6: leader_bus.servo(6).actual_position - direction * 700})  # let go
        follower_bus.release_joint(6)
        time.sleep(0.5)
        leader_bus.resume_trajectory()
        recovered = protected and not controller.grasp.tripped and self.back_to_normal("teleop follower", self.teleop)
        self.tally.note(kind, detected, recovered, detect_s, f"obstacle at {obstacle} ticks")

    def _leader_loss(self, kind: str) -> None:
        leader, follower = self.teleop.runner.node("leader"), self.teleop.runner.node("follower")
        expired = follower.controller.counters["commands_expired"]
        emulator = self.teleop.runner.emulator("leader")
        started = time.monotonic()
        emulator.unplug_bus()
        detected = wait_for(lambda: follower.controller.counters["commands_expired"] > expired
                            and not leader.arm.bus.is_open, DETECT_S)
        detect_s = time.monotonic() - started
        time.sleep(max(0.0, FAULT_S - (time.monotonic() - started)))
        emulator.replug_bus()
        recovered = wait_for(lambda: leader.arm.bus.is_open, RECOVER_S) and self.back_to_normal("leader", self.teleop)
        self.tally.note(kind, detected, recovered, detect_s, "leader")

    def _server_killed(self, kind: str) -> None:
        follower_bus = self.deploy.runner.emulator("follower")
        started = time.monotonic()
        self.server.kill()

        def held() -> bool:  # the deploy follower holds one pose for half a second
            recent = [r for r in follower_bus.goal_log[-600:] if r.motor_id == 1 and r.t_monotonic > started]
            return bool(recent) and recent[-1].t_monotonic - started > 0.5 and len(
                {r.goal_ticks for r in recent if r.t_monotonic > recent[-1].t_monotonic - 0.5}) == 1
        detected = wait_for(held, DETECT_S)
        detect_s = time.monotonic() - started
        self.server.start()
        recovered = self.driven(self.deploy, time.monotonic())
        self.tally.note(kind, detected, recovered, detect_s, "policy server")

    def _hostile(self, kind: str) -> None:
        started = time.monotonic()
        answers = [self._hostile_exchange(blob) for blob in hostile_requests(self.rng)]
        self.hostile_requests += len(answers)
        detected = all(answer == "error" for answer in answers)
        self.server.sample_memory()
        recovered = self._hostile_exchange(pack(request("ping", api_token=API_TOKEN), Protocol.N1_7.array_form)) == "ok"
        recovered = recovered and self.driven(self.deploy, time.monotonic())
        self.tally.note(kind, detected, recovered, time.monotonic() - started, f"{Counter(answers)}")

    def _hostile_exchange(self, frames: bytes | list[bytes]) -> str:
        context = zmq.Context.instance()
        with context.socket(zmq.REQ) as socket_:
            socket_.setsockopt(zmq.LINGER, 0)
            socket_.setsockopt(zmq.RCVTIMEO, 5000)
            socket_.connect(f"tcp://127.0.0.1:{self.server.port}")
            socket_.send_multipart(frames if isinstance(frames, list) else [frames])
            try:
                reply = unpack(socket_.recv())
            except zmq.Again:
                return "no reply"
        if isinstance(reply, dict) and "error" in reply:
            return "error"
        return "ok" if reply == {"status": "ok", "message": "Server is running"} else "answered"


def hostile_requests(rng: random.Random) -> list[bytes | list[bytes]]:
    """Small requests that made msgpack allocate ~60x their size, a multipart one, a wrong token, mutations."""
    n = 4 * MB
    envelope = msgpack.packb({"endpoint": "get_action", "api_token": API_TOKEN})
    authorised_data = b"\x83" + envelope[1:] + b"\xa4data"
    valid = pack(request("get_action", {"observation": {}, "options": None}, api_token=API_TOKEN),
                 Protocol.N1_7.array_form)
    blobs: list[bytes | list[bytes]] = [
        b"\xdd" + n.to_bytes(4, "big") + b"\x90" * n,
        authorised_data + b"\xdd" + n.to_bytes(4, "big") + b"\x90" * n,
        msgpack.packb({"endpoint": "get_action", "data": {"observation": {}}}),  # no token
        [valid, b"second frame"],
    ]
    for _ in range(6):
        mutated = bytearray(valid)
        for _ in range(rng.randint(1, 4)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        blobs.append(bytes(mutated))
    return blobs


# --- recording ------------------------------------------------------------------------------------


@dataclass
class Recording:
    rig: Rig
    started: int = 0
    saved: list[str] = field(default_factory=list)  # where the recorder said each stopped episode went
    not_kept: int = 0  # episodes stopped with no complete step (nothing to save)
    recording_since: float | None = None
    length_s: float = 0.0
    next_start: float = 0.0

    def maintain(self, rng: random.Random) -> None:
        now = time.monotonic()
        if self.recording_since is None and now >= self.next_start:
            response = self.rig.call(RECORDER_START, Trigger.Request())
            if response is not None and response.success:
                self.started += 1
                self.recording_since, self.length_s = now, rng.uniform(*EPISODE_S)
            else:
                self.next_start = now + 1.0  # an input missing (teleop disengaged by a fault): try again
        elif self.recording_since is not None and now - self.recording_since > self.length_s:
            response = self.rig.call(RECORDER_STOP, SetBool.Request(data=True), timeout_s=60.0)
            if response is not None and response.success:
                if "→ not kept" in response.message:
                    self.not_kept += 1
                else:
                    self.saved.append(response.message.split("→ ")[-1])
            self.recording_since, self.next_start = None, now + rng.uniform(1.0, 3.0)


def demos_in(path: Path) -> int:
    with h5py.File(path, "r") as file:
        return len([name for name in file["data"] if name.startswith("demo_")])


# --- the run --------------------------------------------------------------------------------------


def rate(count: Callable[[], int], seconds: float) -> float:
    before, started = count(), time.monotonic()
    time.sleep(seconds)
    return (count() - before) / (time.monotonic() - started)


def goal_count(rig: Rig) -> Callable[[], int]:
    emulator = rig.runner.emulator("follower")
    return lambda: emulator.stats.packets_handled


def run(seconds: float, domain_id: int, seed: int, fault_period_s: float) -> dict:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="so101-soak-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "teleop").mkdir()
        (tmp / "deploy").mkdir()
        hdf5 = tmp / "demos.hdf5"
        port = free_port()
        server = PolicyServerProcess(write_replay_dataset(tmp / "replay.hdf5", seconds + 300.0), port)
        with contextlib.ExitStack() as started_up:  # a set-up that fails half-way stops what it started
            server.start()
            started_up.callback(server.stop)
            teleop = Rig(teleop_rig_graph(tmp / "teleop", hdf5, seed), domain_id)
            started_up.callback(teleop.close)
            deploy = Rig(deploy_rig_graph(tmp / "deploy", port, seed + 1), domain_id + 1)
            started_up.pop_all()  # from here on the finally below stops them, in its own order
        watches = [GoalWatch.of("teleop", teleop), GoalWatch.of("deploy", deploy)]
        stop_watching = threading.Event()

        def watch() -> None:
            while not stop_watching.wait(1.0):
                for goal_watch in watches:
                    goal_watch.check()
                server.sample_memory()

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        soak = Soak(teleop, deploy, server, rng)
        recording = Recording(teleop)
        started = time.monotonic()
        end = started + seconds
        try:
            wait_for(lambda: teleop.runner.node("teleop").mapper.state is TeleopState.MIRRORING, 30.0)
            soak.driven(deploy, time.monotonic())
            baseline_s = min(10.0, max(3.0, 0.1 * seconds))
            rigs = (("teleop", teleop), ("deploy", deploy))
            baseline = {name: rate(goal_count(rig), baseline_s / 2) for name, rig in rigs}
            next_fault = time.monotonic()
            deck: list[str] = []
            soak_rates = {"teleop": [], "deploy": []}
            while time.monotonic() < end:
                recording.maintain(rng)
                if time.monotonic() >= next_fault and end - time.monotonic() > DETECT_S + 2 * FAULT_S:
                    if not deck:  # every kind once per round, in a random order: short runs see them all
                        deck = rng.sample(KINDS, len(KINDS))
                    soak.inject(deck.pop())
                    next_fault = time.monotonic() + rng.uniform(0.5, 1.5) * fault_period_s
                    continue
                for name, rig in rigs:
                    soak_rates[name].append(rate(goal_count(rig), 0.25))
            if recording.recording_since is None:  # end mid-episode: the shutdown must keep it
                recording.next_start = 0.0
                wait_for(lambda: (recording.maintain(rng), recording.recording_since is not None)[1], 10.0)
            interrupted = 1 if recording.recording_since is not None else 0
        finally:
            stop_watching.set()
            watcher.join()
            elapsed = time.monotonic() - started
            deploy.close()
            teleop.close()  # Ctrl-C as `so101 run` does it: the recorder keeps the episode it was recording
            server.stop()
            for goal_watch in watches:
                goal_watch.check()
        expected = len(recording.saved) + interrupted
        saved = demos_in(hdf5) if hdf5.exists() else 0
    return {
        "seconds": elapsed, "tally": soak.tally, "watches": watches, "baseline": baseline,
        "soak_rates": {name: float(np.mean(values)) if values else 0.0 for name, values in soak_rates.items()},
        "episodes_started": recording.started, "episodes_not_kept": recording.not_kept,
        "demos_expected": expected, "demos_saved": saved, "demos_lost": max(0, expected - saved),
        "server_peak_mb": server.peak_mb, "hostile_requests": soak.hostile_requests,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600.0, help="soak length (default 10 minutes)")
    parser.add_argument("--domain-id", type=int, default=101 + os.getpid() % 100,
                        help="ROS domain of the teleop graph; the deploy graph uses the next one")
    parser.add_argument("--seed", type=int, default=15, help="seed of the fault sequence and the emulators")
    parser.add_argument("--fault-period-s", type=float, default=6.0, help="mean time between fault starts")
    args = parser.parse_args()
    result = run(args.seconds, args.domain_id, args.seed, args.fault_period_s)
    tally: Tally = result["tally"]
    watches: list[GoalWatch] = result["watches"]

    print(f"fault soak: {result['seconds']:.0f} s, teleop + deploy on emulated arms, {os.cpu_count()} CPUs, "
          f"seed {args.seed}")
    print(f"{'fault':16s} {'injected':>8s} {'detected':>8s} {'recovered':>9s} {'detect p50':>10s}")
    for kind in KINDS:
        times = tally.detect_s.get(kind, [])
        p50 = f"{np.median(times):.2f} s" if times else "-"
        print(f"{kind:16s} {tally.injected[kind]:8d} {tally.detected[kind]:8d} {tally.recovered[kind]:9d} {p50:>10s}")
    total = sum(tally.injected.values())
    print(f"{'all':16s} {total:8d} {sum(tally.detected.values()):8d} {sum(tally.recovered.values()):9d}")
    goals = sum(w.goals for w in watches)
    beyond = sum(w.beyond_limits for w in watches)
    steps = sum(w.steps_above_limit for w in watches)
    print(f"{'goals checked':34s} {goals}")
    print(f"{'goals beyond limits (goal 0)':34s} {beyond}")
    print(f"{'steps above the filter limit (0)':34s} {steps}")
    print(f"{'demos: saved / expected, lost (0)':34s} {result['demos_saved']} / {result['demos_expected']}, "
          f"{result['demos_lost']} ({result['episodes_started']} started, {result['episodes_not_kept']} with no step)")
    print(f"{'policy server peak memory (VmHWM)':34s} {result['server_peak_mb']:.0f} MB "
          f"({result['hostile_requests']} hostile requests)")
    for name in ("teleop", "deploy"):
        print(f"{name + ' bus packets/s, soak/baseline':34s} {result['soak_rates'][name]:.0f} / "
              f"{result['baseline'][name]:.0f}")
    for note in tally.notes[:20]:
        print(f"  not detected or not recovered: {note}")
    figures = {
        "benchmark": "fault_soak",
        "seconds": round(result["seconds"], 1),
        "seed": args.seed,
        **{f"{kind}_{what}": getattr(tally, what)[kind]
           for kind in KINDS for what in ("injected", "detected", "recovered")},
        "faults_injected": total,
        "faults_detected": sum(tally.detected.values()),
        "faults_recovered": sum(tally.recovered.values()),
        "goals_checked": goals,
        "goals_beyond_limits": beyond,
        "steps_above_filter_limit": steps,
        "demos_saved": result["demos_saved"],
        "demos_lost": result["demos_lost"],
        "server_peak_memory_mb": round(result["server_peak_mb"], 1),
        "hostile_requests": result["hostile_requests"],
        **{f"{name}_bus_rate_ratio": round(result["soak_rates"][name] / result["baseline"][name], 3)
           if result["baseline"][name] else 0.0 for name in ("teleop", "deploy")},
    }
    print(json.dumps(figures))
    return 1 if beyond or steps or result["demos_lost"] else 0


if __name__ == "__main__":
    sys.exit(main())
