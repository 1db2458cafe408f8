"""so101_policy.inference: the inference node's configuration, observation store and policy stream, without ROS.

Sessions run against our PolicyServer on a free loopback port with a stand-in policy that records
what it is asked; the stream's server never answers (short timeouts) where only the
control side is under test. Clocks are manual wherever a test judges time.
"""
from __future__ import annotations

import math
import time

import numpy as np
import pytest

from so101_calibration import JOINT_NAMES, joint_limits
from so101_calibration.interface_contract import CAMERA_IMAGE
from so101_policy import (
    JointUnits,
    ObservationError,
    PolicyClient,
    PolicyUnits,
    Protocol,
    RobotObservation,
    default_data_config,
)
from so101_policy.embodiment.observation_schema import validate_observation
from so101_policy.inference import InferenceConfig, Level, ObservationStore, PolicySession, PolicyStream
from so101_policy.inference.config import REQUEST_TIMEOUT_MARGIN_S
from so101_policy.streaming import BlendMode


class ManualClock:
    def __init__(self, now: float = 50.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


FRAME = np.zeros((4, 8, 3), dtype=np.uint8)


# --- InferenceConfig ------------------------------------------------------------------------------


def test_the_defaults_are_a_30_hz_crossfading_stream_whose_requests_end_by_the_client_timeout():
    config = InferenceConfig()
    scheduler = config.scheduler_config()
    assert (scheduler.control_hz, scheduler.action_hz, scheduler.blend) == (30.0, 30.0, BlendMode.CROSSFADE)
    assert scheduler.request_timeout_s == config.timeout_s + REQUEST_TIMEOUT_MARGIN_S
    assert config.camera_topics == {name: CAMERA_IMAGE.format(name=name) for name in ("front", "wrist")}


def test_a_camera_entry_may_name_its_topic():
    config = InferenceConfig(cameras=("webcam=/usb/webcam/image", "wrist"))
    assert config.camera_topics == {"webcam": "/usb/webcam/image", "wrist": CAMERA_IMAGE.format(name="wrist")}


def test_the_validation_limits_are_the_calibrated_range_less_the_margin(calibration):
    config = InferenceConfig(limit_margin_rad=0.1, max_step_rad=0.2)
    validation = config.validation_config(calibration)
    np.testing.assert_allclose(validation.limits.lower, joint_limits(calibration, margin_rad=0.1).lower)
    assert validation.max_step_rad == 0.2


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("protocol", "n2", "unknown GR00T wire generation 'n2'"),
        ("units", "meters", "units must be one of radians | degrees | normalized, got 'meters'"),
        ("blend", "average", "blend must be one of latest | crossfade | ensemble"),
        ("data_config", "so200", "unknown data_config 'so200'; known: so100, so100_dualcam"),
        ("cameras", ("front", "front=/other"), "repeats a name"),
        ("port", 0, "port must be 1..65535"),
        ("timeout_s", 0.0, "timeout_s must be positive"),
        ("control_hz", -30.0, "control_hz must be positive"),
    ],
)
def test_a_bad_parameter_is_refused_by_name(field, value, message):
    with pytest.raises(ValueError, match=message):
        InferenceConfig(**{field: value})


# --- the observation store ----------------------------------------------------------------


def fed_store(clock: ManualClock, **kwargs) -> ObservationStore:
    store = ObservationStore(("front", "wrist"), max_age_s=0.25, clock=clock, **kwargs)
    store.update_joints(np.arange(6.0), received_at=clock.now)
    for camera in ("front", "wrist"):
        store.update_frame(camera, FRAME, received_at=clock.now)
    return store


def test_a_snapshot_is_timed_at_the_joint_state_read_and_carries_the_instruction():
    clock = ManualClock()
    store = fed_store(clock, instruction="from the parameter")
    store.set_instruction("pick the cube")
    clock.now += 0.1
    observation = store.snapshot()
    assert observation.time == 50.0
    assert observation.joint_positions.tolist() == list(range(6))
    assert set(observation.images) == {"front", "wrist"} and observation.instruction == "pick the cube"


@pytest.mark.parametrize(
    "stale,message",
    [
        ("joints", r"stale observation \(joint state 0.300 s old; limit 0.25 s\)"),
        ("front", r"stale observation \(camera front 0.300 s old; limit 0.25 s\)"),
    ],
)
def test_a_stale_reading_refuses_the_snapshot_and_names_itself(stale, message):
    clock = ManualClock()
    store = fed_store(clock)
    clock.now += 0.3
    if stale != "joints":
        store.update_joints(np.zeros(6), clock.now)
    for camera in ("front", "wrist"):
        if camera != stale:
            store.update_frame(camera, FRAME, clock.now)
    with pytest.raises(ObservationError, match=message):
        store.snapshot()


def test_missing_readings_refuse_the_snapshot():
    clock = ManualClock()
    store = ObservationStore(("front", "wrist"), 0.25, clock=clock)
    with pytest.raises(ObservationError, match="no follower joint state received yet"):
        store.snapshot()
    store.update_joints(np.zeros(6), clock.now)
    store.update_frame("front", FRAME, clock.now)
    with pytest.raises(ObservationError, match=r"no frame received yet from camera\(s\) wrist"):
        store.snapshot()


def test_non_finite_joint_states_are_not_kept_and_present_is_only_ever_fresh():
    clock = ManualClock()
    store = fed_store(clock)
    assert not store.update_joints(np.array([0, 0, np.nan, 0, 0, 0]), clock.now)
    assert store.present().tolist() == list(range(6))
    clock.now += 0.3
    assert store.present() is None
    assert store.ages() == pytest.approx({"joint_state_age_s": 0.3, "camera_front_age_s": 0.3,
                                          "camera_wrist_age_s": 0.3})


# --- the session: connecting, language key, episodes --------------------------------------------


class RecordingStandIn:
    """A stand-in policy (radians) that records each call and checks observations as a strict server.

    It expects the instruction under `language_key` and names `advertised_key` in its modality
    config (the same unless a test makes the node's override necessary).
    """

    def __init__(self, protocol: Protocol, language_key: str = "annotation.human.action.task_description",
                 advertised_key: str | None = None):
        self.protocol = protocol
        self.config = default_data_config(protocol).with_overrides(language_key=language_key)
        self.advertised = self.config.with_overrides(language_key=advertised_key)
        self.calls: list[str] = []
        self.observations: list[dict] = []

    def get_modality_config(self):
        self.calls.append("get_modality_config")
        return self.advertised.modality_configs(self.protocol)

    def reset(self, options):
        self.calls.append("reset")
        return {}

    def get_action(self, observation, options):
        validate_observation(observation, self.config, self.protocol)
        self.calls.append("get_action")
        self.observations.append(observation)
        chunk = np.zeros((16, 6), dtype=np.float32)
        if self.protocol.nested:
            return {"single_arm": chunk[np.newaxis, :, :5], "gripper": chunk[np.newaxis, :, 5:]}, {}
        return {"action.single_arm": chunk[:, :5], "action.gripper": chunk[:, 5:]}, {}


def NO_PREFIX(observation_time: float) -> None:
    """The scheduler's answer when no plan runs: the request carries no RTC prefix."""
    return None


def session_for(port: int, observe, **config) -> tuple[PolicySession, PolicyClient]:
    inference = InferenceConfig(port=port, units="radians", **config)
    client = PolicyClient("127.0.0.1", port, inference.protocol, timeout_s=5.0)
    return PolicySession(client, inference, PolicyUnits(JointUnits.RADIANS), observe), client


def observation_at(time_s: float):
    return lambda: RobotObservation(np.zeros(6), {"front": FRAME, "wrist": FRAME}, "stack the cups", time_s)


def test_the_session_connects_on_first_use_with_the_servers_generation_and_language_key(serve):
    stand_in = RecordingStandIn(Protocol.N1_6)
    served = serve(stand_in, Protocol.N1_6)
    session, client = session_for(served.port, observation_at(0.0))
    try:
        assert stand_in.calls == [] and session.info is None  # nothing happens until the worker asks
        reply = session(NO_PREFIX)
        assert reply.actions.shape == (16, len(JOINT_NAMES)) and reply.observation_time == 0.0
        assert session.info.protocol == "n1.6"
        assert session.info.data_config.name == "so100_new_embodiment"
        language = stand_in.observations[-1]["language"]
        assert language == {"annotation.human.action.task_description": [["stack the cups"]]}
        assert "get_action" in stand_in.calls and "reset" not in stand_in.calls
    finally:
        client.close()


def test_a_configured_language_key_and_data_config_win_over_the_defaults(serve):
    stand_in = RecordingStandIn(Protocol.N1_5, language_key="task", advertised_key="annotation.human.task_description")
    served = serve(stand_in, Protocol.N1_5)
    session, client = session_for(served.port, observation_at(0.0), protocol="n1.5", language_key="task",
                                  data_config="so100_dualcam")
    try:
        session(NO_PREFIX)
        assert session.info.data_config.language_key == "task"
        assert stand_in.observations[-1]["task"] == ["stack the cups"]
    finally:
        client.close()


def test_a_new_episode_resets_the_server_once_before_the_next_request(serve):
    stand_in = RecordingStandIn(Protocol.N1_7)
    served = serve(stand_in, Protocol.N1_7)
    session, client = session_for(served.port, observation_at(0.0), rtc="off")
    try:
        session.new_episode()
        session(NO_PREFIX)
        session(NO_PREFIX)
        assert [call for call in stand_in.calls if call != "get_modality_config"] == ["reset", "get_action", "get_action"]
        assert set(session.latency_percentiles_ms()) == {"latency_p50_ms", "latency_p95_ms"}
    finally:
        client.close()


# --- the stream: engaging, ticking, reporting -------------------------------------------------------


@pytest.fixture
def stream(calibration, scripted_peer):
    """A PolicyStream whose server never answers (requests time out after 50 ms); closed at teardown.

    Its clock is manual: a failed request is retried only once the test moves the clock on.
    """
    silent = scripted_peer(lambda request: None)
    clock = ManualClock()
    config = InferenceConfig(port=silent.port, timeout_s=0.05, units="radians")
    stream = PolicyStream(config, calibration, clock)
    stream.start()
    yield stream, clock
    stream.close()


def test_no_target_before_engaging_and_no_engaging_without_a_fresh_joint_state(stream):
    stream, clock = stream
    assert stream.tick() is None
    assert stream.engage() == "no follower joint state in the last 0.25 s"
    assert not stream.engaged
    report = stream.status()
    assert (report.level, report.message) == (Level.OK, "idle: call policy/run to start streaming")
    assert report.values["protocol"] == "not connected"


def test_engaged_it_holds_the_present_pose_until_a_chunk_arrives_and_says_so(stream):
    stream, clock = stream
    present = np.array([0.1, -0.2, 0.3, -0.1, 0.0, 0.05])
    stream.observations.update_joints(present, clock.now)
    assert stream.engage() is None
    np.testing.assert_array_equal(stream.tick(), present)
    report = stream.status()
    assert report.level is Level.WARN
    assert report.message.startswith("holding the last target, no plan: ")
    assert report.values["engaged"] is True and report.values["ticks_hold"] == 1
    stream.disengage()
    assert stream.tick() is None


def test_a_stopped_worker_is_an_error(stream):
    stream, _ = stream
    stream.driver.stop()
    assert stream.status().level is Level.ERROR


def test_the_report_names_the_failures_since_the_previous_one(stream):
    stream, clock = stream
    stream.observations.update_joints(np.zeros(6), clock.now)
    stream.engage()
    stream.tick()  # sends the first request, which times out on the worker
    deadline = time.monotonic() + 10.0
    while stream.driver.counters.get("failed_timeout", 0) < 1:
        assert time.monotonic() < deadline, "the request never timed out"
        time.sleep(0.005)
    assert stream.status().message == "holding the last target, no plan: failed_timeout +1"
    assert stream.status().message == "holding the last target, no plan: waiting for a chunk"
    assert math.isfinite(stream.status().values["latency_estimate_ms"])
