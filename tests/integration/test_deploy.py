"""The deploy graph end to end: a policy server drives the emulated follower through ROS.

`so101 run deploy --emulate` in-process (emulated follower bus, synthetic cameras, the inference
node) on this process's own ROS domain, against our PolicyServer on a free loopback port: the
replay backend over a recorded episode, or a stand-in for a faulty checkpoint. What reached the
servos is judged by the emulator's own goal log, never by the nodes' account of what they sent;
the node's account is read where an operator reads it, on /diagnostics. Waiting is on
conditions with timeouts (spinning the test's probe node), never on sleeps.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from std_msgs.msg import String
from std_srvs.srv import SetBool

from so101_bringup.arguments import DeployArgs
from so101_bringup.launch_graphs import deploy_graph
from so101_bringup.runner import GraphRunner
from so101_bringup.share import config_path
from so101_calibration import JOINT_NAMES, MOTOR_IDS, joint_limits, read_calibration_file, ticks_to_radians
from so101_calibration.interface_contract import DIAGNOSTICS, POLICY_CHUNK, POLICY_INSTRUCTION, POLICY_RUN
from so101_hardware.ros.endpoints import client, publisher, subscription
from so101_policy import JointUnits, Protocol, default_data_config
from so101_policy.embodiment.observation_schema import validate_observation
from so101_policy.server.backends.replay import ReplayPolicy
from so101_policy.server.backends.synthetic import SyntheticConfig, SyntheticPolicy
from so101_policy.server.datasets import read_episode
from so101_policy.wire.modality import ModalityConfig
from tests_support.policy import Served, write_isaaclab_hdf5
from tests_support.ros import domain_for_this_process, spin_until

WAIT_S = 20.0
FPS = 30.0
PROTOCOL = Protocol.N1_7
EMULATED_CALIBRATION = config_path("calibration", "emulated_follower.json")
TRACKING_TOLERANCE_RAD = 0.04
"""Goal vs recorded action after alignment (≈ 0.01 here): chunk-timing jitter and 30 Hz steps at
≤ 0.25 rad/s, tick rounding, unit conversions both ways."""


def rest_pose() -> np.ndarray:
    """Where an emulated follower starts (mid-travel, 2048 ticks, ± its rest jitter of 40 ticks), radians."""
    return ticks_to_radians(read_calibration_file(EMULATED_CALIBRATION), np.full(len(JOINT_NAMES), 2048))


def slow_episode(seconds: float, period_s: float) -> np.ndarray:
    """(frames, 6) radians from the rest pose out and back, 0.3 rad peak to peak: any two poses of it are
    closer than the chunk check's start-jump limit (30°), so a stream may resume anywhere along it."""
    t = np.arange(round(seconds * FPS))[:, np.newaxis] / FPS
    direction = np.array([1.0, -1.0, 1.0, -1.0, 1.0, 1.0])
    return rest_pose() + direction * 0.15 * (1 - np.cos(2 * np.pi * t / period_s))


class DeployRig:
    """The running deploy graph, and the test's probe node: /diagnostics, policy/run, policy/instruction."""

    def __init__(self, running: GraphRunner):
        self.running = running
        self.probe = Node("probe", context=running.context)
        self.executor = SingleThreadedExecutor(context=running.context)
        self.executor.add_node(self.probe)
        self.diagnostics: dict[str, tuple[int, str, dict[str, str]]] = {}
        """Node name → (level, message, values) of its latest /diagnostics status."""
        subscription(self.probe, DIAGNOSTICS, self._on_diagnostics)
        self.run_client = client(self.probe, POLICY_RUN)
        self.instructions = publisher(self.probe, POLICY_INSTRUCTION)
        self.follower_bus = running.emulator("follower")
        follower = running.node("follower")
        self.calibration = follower.connected.calibration
        self.lower = follower.controller.limits.lower
        self.upper = follower.controller.limits.upper

    def close(self) -> None:
        self.executor.shutdown()
        self.probe.destroy_node()

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            self.diagnostics[status.name] = (status.level[0], status.message, {kv.key: kv.value for kv in status.values})

    def wait(self, condition: Callable[[], bool], what: str, timeout_s: float = WAIT_S) -> None:
        assert spin_until(self.executor, condition, timeout_s), f"timed out waiting for {what}"

    def inference(self) -> tuple[int, str, dict[str, str]]:
        return self.diagnostics.get("inference", (-1, "", {}))

    def counter(self, key: str, node: str = "inference") -> int:
        return int(self.diagnostics.get(node, (-1, "", {}))[2].get(key, 0))

    def wait_for_report(self, condition: Callable[[int, str, dict[str, str]], bool], what: str) -> None:
        """Wait for a /diagnostics report of the inference node that satisfies condition(level, message, values)."""
        self.wait(lambda: condition(*self.inference()), f"/diagnostics: {what} (last: {self.inference()})")

    def run(self, on: bool) -> SetBool.Response:
        assert self.run_client.wait_for_service(timeout_sec=WAIT_S), "policy/run is not offered"
        future = self.run_client.call_async(SetBool.Request(data=on))
        self.wait(future.done, "the policy/run reply")
        return future.result()

    def start_streaming(self) -> float:
        """policy/run true, asked again while the node has no fresh follower state (at start-up, or
        when a loaded machine pauses the follower's states past 0.25 s); when streaming started."""
        deadline = time.monotonic() + WAIT_S
        while not (response := self.run(True)).success:
            assert response.message.startswith("no follower joint state"), response.message
            assert time.monotonic() < deadline, f"policy/run refused for {WAIT_S} s: {response.message}"
        return time.monotonic()

    def goals(self, since: float = -math.inf) -> tuple[np.ndarray, np.ndarray]:
        """(times, (N, 6) radians) of the goals the follower's servos received, one row per bus write."""
        by_motor = {motor_id: [] for motor_id in MOTOR_IDS}
        for record in self.follower_bus.goal_log:
            if record.t_monotonic >= since:
                by_motor[record.motor_id].append((record.t_monotonic, record.goal_ticks))
        rows = min(len(records) for records in by_motor.values())
        times = np.array([by_motor[MOTOR_IDS[0]][i][0] for i in range(rows)])
        ticks = np.array([[by_motor[m][i][1] for m in MOTOR_IDS] for i in range(rows)])
        return times, ticks_to_radians(self.calibration, ticks) if rows else np.empty((0, 6))

    def latest_goal_time(self) -> float:
        log = self.follower_bus.goal_log
        return log[-1].t_monotonic if log else -math.inf

    def assert_no_goal_beyond_the_follower_limits(self) -> None:
        tick_rad = 2 * math.pi / 4096
        _, goals = self.goals()
        assert len(goals), "no goal reached the servos"
        assert np.all(goals >= self.lower - tick_rad), goals.min(axis=0) - self.lower
        assert np.all(goals <= self.upper + tick_rad), goals.max(axis=0) - self.upper


@pytest.fixture
def deploy(tmp_path):
    """deploy(server_port, **inference_parameters) → a DeployRig on the emulated deploy graph."""
    started: list[tuple[GraphRunner, DeployRig]] = []

    def start(port: int, **inference: Any) -> DeployRig:
        graph = deploy_graph(DeployArgs(emulate=True, emulator_dir=str(tmp_path), uart_timing=False, policy_port=port))
        small_frames = [(f"camera_{name}", key, value) for name in ("front", "wrist")
                        for key, value in (("width", 256), ("height", 96))]
        graph = graph.with_parameters([*small_frames, *(("inference", k, v) for k, v in inference.items())])
        running = GraphRunner(graph, domain_id=domain_for_this_process()).start()
        try:
            rig = DeployRig(running)
        except BaseException:
            running.stop()
            raise
        started.append((running, rig))
        return rig

    yield start
    for running, rig in reversed(started):
        rig.close()
        running.stop()


def replay_server(tmp_path, actions: np.ndarray, **config) -> tuple[Served, ReplayPolicy]:
    """The replay backend over `actions` (radians, recorded as Isaac Lab HDF5), serving LeRobot degrees."""
    episode = read_episode(write_isaaclab_hdf5(tmp_path / "demos.hdf5", {0: actions}))
    calibration = read_calibration_file(EMULATED_CALIBRATION)
    policy = ReplayPolicy(episode, default_data_config(PROTOCOL), PROTOCOL, JointUnits.DEGREES, calibration)
    return Served.start(policy, PROTOCOL, **config), policy


def synthetic_server(horizon: int = 40, **config) -> tuple[Served, SyntheticConfig]:
    """The synthetic backend (a stand-in for a model: smooth motion from the state), serving LeRobot degrees."""
    synthetic = SyntheticConfig(**config)
    data_config = default_data_config(PROTOCOL).with_overrides(action_horizon=horizon)
    policy = SyntheticPolicy(synthetic, data_config, PROTOCOL, JointUnits.DEGREES,
                             read_calibration_file(EMULATED_CALIBRATION))
    return Served.start(policy, PROTOCOL), synthetic


JUMP_WINDOW_S = 0.5
"""Goals are compared over this span: a jump, or catching up after skipped actions, moves a joint farther in it
than the motion can, whereas a pause of the follower's loop on a loaded machine (up to ~0.2 s seen) only bunches
the same motion."""


def largest_move(times: np.ndarray, goals: np.ndarray, window_s: float) -> float:
    """The largest distance any joint's goal moved within `window_s` (goal at t vs goal at t − window_s)."""
    later = times >= times[0] + window_s
    before = np.column_stack([np.interp(times[later] - window_s, times, goals[:, j]) for j in range(goals.shape[1])])
    return float(np.abs(goals[later] - before).max())


def aligned_error(times: np.ndarray, goals: np.ndarray, started: float, actions: np.ndarray) -> tuple[float, float]:
    """(lag, largest error): the recorded actions shifted by the lag (in 5 ms steps, up to 0.5 s either
    way, around the time streaming started) that best matches the goals, and the worst mismatch then."""
    frames = np.arange(len(actions)) / FPS

    def reference(lag: float) -> np.ndarray:
        elapsed = times - started - lag
        return np.column_stack([np.interp(elapsed, frames, actions[:, j]) for j in range(actions.shape[1])])

    lags = np.arange(-0.5, 0.5, 0.005)
    best = min(lags, key=lambda lag: float(np.mean((goals - reference(lag)) ** 2)))
    return float(best), float(np.max(np.abs(goals - reference(best))))


@pytest.mark.slow
@pytest.mark.emulator_only
@pytest.mark.timeout(120)
def test_the_replay_backend_drives_the_emulated_follower_through_ros(tmp_path, deploy):
    actions = slow_episode(seconds=6.0, period_s=4.0)
    served, _ = replay_server(tmp_path, actions)
    rig = deploy(served.port)  # the node's defaults: protocol auto, LeRobot degrees, crossfade, 30 Hz
    rig.instructions.publish(String(data="wave the arm"))

    started = rig.start_streaming()
    rig.wait(lambda: rig.latest_goal_time() > started + 3.5, "3.5 s of streaming")

    # The servos followed the recording: after the crossfade in from the present pose (the rest
    # jitter), every goal is the recorded action of its time, up to the chunks' latency.
    times, goals = rig.goals(since=started + 0.5)
    lag, error = aligned_error(times, goals, started, actions)
    assert error < TRACKING_TOLERANCE_RAD, f"largest deviation {error:.3f} rad (lag {lag * 1e3:.0f} ms)"
    assert np.ptp(goals, axis=0).min() > 0.2, "the follower moved along the recording"
    assert abs(lag) < 0.2, "aligned to when streaming started, give or take the chunks' latency"
    rig.assert_no_goal_beyond_the_follower_limits()

    rig.wait_for_report(lambda level, message, values: message == "streaming" and "latency_p95_ms" in values,
                        "streaming with latency figures")
    level, _, values = rig.inference()
    assert level == 0
    assert (values["protocol"], values["data_config"]) == ("n1.7", "so100_new_embodiment")  # found out by itself
    assert values["instruction"] == "wave the arm"
    assert int(values["chunks_accepted"]) >= 5 and values["rejected_chunks"] == "0"
    assert float(values["latency_p50_ms"]) <= float(values["latency_p95_ms"]) < 1000
    served.stop()


class FaultyCheckpointStandIn:
    """A stand-in for a broken GR00T checkpoint (n1.7 layout, radians): one faulty chunk per request in
    turn, then chunks that overshoot the gripper's upper limit a little, for ever.

    It answers with the state it was sent (so only the fault under test is wrong), checks each
    observation as a strict Isaac-GR00T server would, and names its own language key.
    """

    LANGUAGE_KEY = "annotation.human.action.task_description"
    FAULTS = ("nan", "wrong_shape", "wrong_dtype", "missing_key", "far_beyond_limits", "jumping", "far_from_arm")

    def __init__(self, upper: np.ndarray, horizon: int = 16):
        self.config = default_data_config(PROTOCOL).with_overrides(language_key=self.LANGUAGE_KEY)
        self.upper = upper
        self.horizon = horizon
        self.requests = 0
        self.instructions: list[str] = []

    def get_modality_config(self) -> dict[str, ModalityConfig]:
        return self.config.modality_configs(PROTOCOL)

    def reset(self, options):
        return {}

    def get_action(self, observation, options):
        validate_observation(observation, self.config, PROTOCOL)
        self.instructions.append(observation["language"][self.LANGUAGE_KEY][0][0])
        state = np.concatenate([observation["state"]["single_arm"][0, 0], observation["state"]["gripper"][0, 0]])
        fault = self.FAULTS[self.requests] if self.requests < len(self.FAULTS) else "slightly_beyond_limits"
        self.requests += 1
        chunk = np.tile(state, (self.horizon, 1)).astype(np.float32)
        gripper = len(JOINT_NAMES) - 1
        if fault == "nan":  # every fault here is caught on arrival and counted once
            chunk[5, 0] = np.nan
        elif fault == "far_beyond_limits":  # a units mix-up: far past the limit, rejected rather than clamped
            chunk[:, gripper] = self.upper[gripper] + 1.0
        elif fault == "jumping":
            chunk[8:, 0] += 0.6  # 34° between two actions
        elif fault == "far_from_arm":
            chunk[:, 0] += 0.7  # 40° from where the arm is commanded
        elif fault == "slightly_beyond_limits":  # a ramp at 1.5 rad/s to 0.1 rad past the limit: clamped to it
            ramp = state[gripper] + 0.05 * np.arange(1, self.horizon + 1)
            chunk[:, gripper] = np.minimum(ramp, self.upper[gripper] + 0.1)
        action = {"single_arm": chunk[np.newaxis, :, :gripper], "gripper": chunk[np.newaxis, :, gripper:]}
        if fault == "wrong_shape":
            action["gripper"] = chunk[np.newaxis, :, gripper - 1:]
        elif fault == "wrong_dtype":
            action["single_arm"] = action["single_arm"].astype(np.int32)
        elif fault == "missing_key":
            del action["gripper"]
        return action, {}


@pytest.mark.slow
@pytest.mark.emulator_only
@pytest.mark.timeout(120)
def test_bad_actions_are_rejected_or_clamped_counted_and_never_reach_the_servos(deploy):
    upper = joint_limits(read_calibration_file(EMULATED_CALIBRATION)).upper  # the node's chunk check's limits
    stand_in = FaultyCheckpointStandIn(upper)
    served = Served.start(stand_in, PROTOCOL)
    rig = deploy(served.port, units="radians", rtc="off")  # each fault in a chunk for the arm, none in a canary
    rig.instructions.publish(String(data="do not break"))
    rig.start_streaming()

    # Every fault is caught (the decoder's and the chunk check's) and counted on /diagnostics,
    # and the overshooting chunks take the gripper to its limit and no farther.
    expected = ("rejected_non_finite", "rejected_bad_shape", "rejected_bad_dtype", "rejected_bad_keys",
                "rejected_out_of_limits", "rejected_discontinuous", "rejected_jump_from_current")
    rig.wait_for_report(lambda level, message, values: all(int(values.get(k, 0)) == 1 for k in expected)
                        and int(values.get("clamped_values", 0)) > 0, "each fault counted once, and clamps")
    gripper = len(JOINT_NAMES) - 1
    rig.wait(lambda: rig.goals()[1][-1, gripper] > upper[gripper] - 0.01, "the gripper at its upper limit")
    at_limit = time.monotonic()
    rig.wait(lambda: rig.latest_goal_time() > at_limit + 0.5, "0.5 s of overshooting chunks at the limit")
    rig.assert_no_goal_beyond_the_follower_limits()
    assert int(rig.inference()[2]["rejected_chunks"]) == len(expected)
    assert set(stand_in.instructions) == {"do not break"}, "sent under the key the server's modality config names"
    served.stop()


@pytest.mark.slow
@pytest.mark.emulator_only
@pytest.mark.timeout(120)
def test_server_loss_holds_the_follower_and_streaming_resumes_when_it_is_back(tmp_path, deploy):
    actions = slow_episode(seconds=30.0, period_s=6.0)
    served, policy = replay_server(tmp_path, actions)
    port = served.port
    rig = deploy(port, timeout_s=0.5)
    started = rig.start_streaming()
    rig.wait_for_report(lambda level, message, values: message == "streaming" and int(values["chunks_accepted"]) > 3,
                        "streaming")

    served.stop()  # the server is gone: requests time out, the plan runs out, the arm holds
    rig.wait_for_report(lambda level, message, values: level == 1 and "holding" in message
                        and int(values.get("failed_timeout", 0)) > 0, "holding after timeouts")
    holding_since = time.monotonic()
    rig.wait(lambda: rig.latest_goal_time() > holding_since + 0.5, "0.5 s of goals while holding")
    _, held = rig.goals(since=holding_since)
    assert np.ptp(held, axis=0).max() == 0.0, "the follower held one pose"
    assert "no reply from the policy server" in rig.inference()[2]["last_error"]

    served = Served.start(policy, PROTOCOL, port=port)  # back on the same port, mid-episode
    accepted = rig.counter("chunks_accepted")
    rig.wait_for_report(lambda level, message, values: message == "streaming"
                        and int(values["chunks_accepted"]) > accepted, "streaming again")
    resumed_since = time.monotonic()  # the crossfade from the held pose (0.2 s) is over by now
    rig.wait(lambda: rig.latest_goal_time() > resumed_since + 1.0, "1 s of goals after resuming")
    lag, error = aligned_error(*rig.goals(since=resumed_since), started, actions)
    assert error < TRACKING_TOLERANCE_RAD, f"back on the recording: {error:.3f} rad off (lag {lag * 1e3:.0f} ms)"

    # policy/run false: the node stops publishing; the follower's commands expire and it holds.
    expired_before = rig.counter("safety_commands_expired", node="follower")
    assert rig.run(False).success
    rig.wait(lambda: rig.counter("safety_commands_expired", node="follower") > expired_before,
             "the follower's command timeout")
    expired = time.monotonic()
    rig.wait(lambda: rig.latest_goal_time() > expired + 0.3, "0.3 s of goals after the timeout")
    assert np.ptp(rig.goals(since=expired)[1], axis=0).max() == 0.0, "the follower holds"
    rig.assert_no_goal_beyond_the_follower_limits()
    served.stop()


@pytest.mark.slow
@pytest.mark.emulator_only
@pytest.mark.timeout(120)
@pytest.mark.parametrize("rtc", ["auto", "off"])
def test_a_slow_first_inference_makes_no_jump(deploy, rtc):
    """A model's warm-up (0.7 s for the first inference, 0.1 s after): the arm held meanwhile, so the first chunk
    starts at its first action when it lands; skipping the 21 actions of the wait (LeRobot's first-chunk jump,
    docs/reference/gr00t-rtc.md §5) would have the arm catch up at 3-4 times the motion's speed. With RTC the
    canary takes the warm-up, and every later chunk continues the plan's tail."""
    served, synthetic = synthetic_server(horizon=40, latency_s=0.1, first_latency_s=0.7)
    rig = deploy(served.port, rtc=rtc)
    chunk_lengths: list[int] = []
    subscription(rig.probe, POLICY_CHUNK, lambda msg: chunk_lengths.append(len(msg.points)))
    started = rig.start_streaming()
    rig.wait_for_report(lambda level, message, values: int(values.get("chunks_accepted", 0)) >= 3,
                        "three chunks merged")
    until = time.monotonic() + 0.5
    rig.wait(lambda: rig.latest_goal_time() > until, "0.5 s more of streaming")
    times, goals = rig.goals(since=started)
    assert np.ptp(goals, axis=0).max() > 0.1, "the follower moved along the synthetic motion"
    motion_speed = synthetic.largest_step_rad * synthetic.fps  # rad/s
    assert largest_move(times, goals, JUMP_WINDOW_S) < 1.5 * motion_speed * JUMP_WINDOW_S, \
        "the goals never moved faster than the motion itself: no jump, no catching up"
    assert chunk_lengths[0] == 40, "the first chunk was executed from its first action: none skipped"
    rig.assert_no_goal_beyond_the_follower_limits()
    values = rig.inference()[2]
    assert values["rtc"] == ("honoured" if rtc == "auto" else "off") and values["chunk_length"] == "40"
    served.stop()
