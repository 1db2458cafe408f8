"""Real-time chunking on the robot side: the request as docs/reference/gr00t-rtc.md §2 lays it out for N1.7,
the canary and the fallback, the prefix and the delay the scheduler hands out, the adaptive cadence.

The request bytes are read back with plain msgpack (not our codec) from what a real PolicyClient sent
to a bare ZMQ peer, so the test holds our bytes to the reference, not to our own decoder.
"""
from __future__ import annotations

import logging
import math

import msgpack
import numpy as np
import pytest

from so101_calibration import JointLimits
from so101_policy import (
    ActionDecoder,
    ArrayForm,
    JointUnits,
    ObservationBuilder,
    PolicyUnits,
    Protocol,
    RobotObservation,
    default_data_config,
)
from so101_policy.streaming import (
    ActionValidator,
    BlendMode,
    ChunkReply,
    ChunkScheduler,
    PolicyChunkSource,
    RtcConfig,
    RtcPrefix,
    RtcState,
    SchedulerConfig,
    ValidationConfig,
)
from so101_policy.streaming.rtc import canary_request
from so101_policy.wire.codec import pack, unpack
from so101_policy.wire.rtc_options import RtcOptions, velocity_weights

STEP = 1 / 30
PROTOCOL = Protocol.N1_7
FRAME = np.zeros((24, 32, 3), np.uint8)
HORIZON = 16
TAIL = np.linspace(-0.2, 0.3, 5 * 6).reshape(5, 6)
"""Five distinct rows, radians: what the arm will execute from the first action not yet sent."""


def observation() -> RobotObservation:
    return RobotObservation(np.full(6, 0.1), {"front": FRAME, "wrist": FRAME}, "stack the cups", 12.0)


def no_prefix(observation_time: float) -> None:
    return None


class Peer:
    """What a bare ZMQ peer answers: `echo` sends observation["action"] back (a server that honours RTC and so
    reproduces a frozen prefix), otherwise a fixed chunk of zeros (a stock server: the prefix is ignored)."""

    def __init__(self, echo: bool):
        self.echo = echo
        self.requests: list[bytes] = []

    def __call__(self, blob: bytes) -> bytes:
        self.requests.append(blob)
        observation = unpack(blob)["data"]["observation"]
        zeros = {"single_arm": np.zeros((1, HORIZON, 5), np.float32), "gripper": np.zeros((1, HORIZON, 1), np.float32)}
        action = observation.get("action") if self.echo else None
        return pack([dict(action or zeros), {}], ArrayForm.MSGPACK_NUMPY)


@pytest.fixture
def source_for(scripted_peer, connect, calibration):
    """source_for(echo) → (PolicyChunkSource in LeRobot degrees with RTC on, its Peer, its units)."""

    def make(echo: bool, **rtc) -> tuple[PolicyChunkSource, Peer, PolicyUnits]:
        peer = Peer(echo)
        served = scripted_peer(peer)
        config, units = default_data_config(PROTOCOL), PolicyUnits(JointUnits.DEGREES, calibration)
        source = PolicyChunkSource(connect(served.port, protocol=PROTOCOL), ObservationBuilder(config, PROTOCOL, units),
                                   ActionDecoder(config, PROTOCOL, units), observation, HORIZON, RtcConfig(**rtc))
        return source, peer, units

    return make


def msgpack_numpy_array(value: dict) -> np.ndarray:
    """A msgpack-numpy map as docs/reference/gr00t-wire.md §4.3 describes it, read by hand."""
    assert set(value) == {b"nd", b"type", b"kind", b"shape", b"data"} and value[b"nd"] is True
    assert value[b"type"] == "<f4" and value[b"kind"] == b""
    return np.frombuffer(value[b"data"], dtype="<f4").reshape(value[b"shape"])


def test_an_rtc_request_is_laid_out_as_the_reference_says_for_n17(source_for):
    source, peer, units = source_for(echo=True)
    source(no_prefix)  # the canary, then a chunk without a prefix: no plan runs yet
    assert source.rtc_state is RtcState.HONOURED
    prefix = RtcPrefix(anchor_time=12.02, tail=TAIL, frozen_steps=3)
    reply = source(lambda t: prefix)
    assert reply.prefix is prefix and reply.rtc and not reply.cold

    blob = peer.requests[-1]
    request = msgpack.unpackb(blob, raw=False)
    assert list(request) == ["endpoint", "data"] and request["endpoint"] == "get_action"
    options = request["data"]["options"]
    assert options == {"action_horizon": 5, "rtc_overlap_steps": 5, "rtc_frozen_steps": 3, "rtc_ramp_rate": 6.0}
    # AH = o = L and f = d, ints and a float64, in this order (msgpack cannot send numpy scalars)
    assert bytes.fromhex("84 ae") + b"action_horizon" + bytes.fromhex("05 b1") + b"rtc_overlap_steps" + \
        bytes.fromhex("05 b0") + b"rtc_frozen_steps" + bytes.fromhex("03 ad") + b"rtc_ramp_rate" + \
        bytes.fromhex("cb 40 18 00 00 00 00 00 00") in blob
    previous = request["data"]["observation"]["action"]
    assert list(previous) == ["single_arm", "gripper"]
    rows = np.concatenate([msgpack_numpy_array(previous["single_arm"]), msgpack_numpy_array(previous["gripper"])],
                          axis=2)
    assert rows.shape == (1, HORIZON, 6), "all T rows of the modality config, batch 1, per group"
    expected = units.from_radians(TAIL).astype(np.float32)  # raw absolute policy units, not normalized
    np.testing.assert_array_equal(rows[0, :5], expected), "the tail left-aligned in rows 0..L-1"
    np.testing.assert_array_equal(rows[0, 5:], np.repeat(expected[-1:], HORIZON - 5, axis=0)), "padded with its last row"
    assert np.all(np.abs(rows[0]) > 0.01), "never zeros (a normalized zero decodes to the dataset mean)"


def test_the_first_request_and_one_without_a_plan_carry_no_prefix(source_for):
    source, peer, _ = source_for(echo=True)
    source(no_prefix)
    canary, first = (msgpack.unpackb(blob, raw=False)["data"] for blob in peer.requests)
    assert "action" in canary["observation"] and canary["options"]["rtc_frozen_steps"] == HORIZON
    assert "action" not in first["observation"] and first["options"] is None


def test_the_canary_is_recognisable_and_wholly_frozen():
    sent, options = canary_request(np.zeros(6), 40, RtcConfig())
    assert options == RtcOptions(40, 40, 40, 6.0)
    np.testing.assert_allclose(np.diff(sent[:, 0]), 0.06 * (-1.0) ** (np.arange(39) + 1)), "a ±0.03 rad zigzag"


def test_a_server_that_ignores_the_prefix_gets_plain_requests_and_is_named_once(source_for, caplog):
    source, peer, _ = source_for(echo=False)
    with caplog.at_level(logging.WARNING, logger="so101_policy"):
        source(no_prefix)
        assert source.rtc_state is RtcState.IGNORED
        reply = source(lambda t: RtcPrefix(12.02, TAIL, 3))
        source.check_rtc()  # a new episode: the canary runs again, with the same verdict
        source(no_prefix)
    assert reply.prefix is None and not reply.rtc, "cross-fade: no prefix is sent"
    last = msgpack.unpackb(peer.requests[-1], raw=False)["data"]
    assert "action" not in last["observation"] and last["options"] is None
    warnings = [r.getMessage() for r in caplog.records if "ignores real-time chunking" in r.getMessage()]
    assert len(warnings) == 1 and "cross-fading" in warnings[0]


def test_rtc_off_sends_no_canary(source_for):
    source, peer, _ = source_for(echo=True, enabled=False)
    reply = source(lambda t: RtcPrefix(12.02, TAIL, 3))
    assert source.rtc_state is RtcState.OFF and len(peer.requests) == 1 and reply.prefix is None
    assert reply.cold, "without a canary, the first chunk is the warm-up"


def test_an_overlap_smaller_than_the_tail_keeps_the_left_alignment():
    options = RtcPrefix(0.0, TAIL, 4).options(HORIZON, RtcConfig(overlap_steps=3))
    assert options == RtcOptions(action_horizon=3, overlap_steps=3, frozen_steps=3, ramp_rate=6.0), \
        "rows [AH - o, AH) = [0, o): new row j continues tail row j"


# --- the scheduler's side: prefix, delay, cadence ---------------------------------------------------------


def scheduler(**config) -> ChunkScheduler:
    validation = ValidationConfig(JointLimits(np.full(6, -3.0), np.full(6, 3.0)), max_step_rad=0.5)
    return ChunkScheduler(SchedulerConfig(blend=BlendMode.LATEST, **config), ActionValidator(validation))


def ramp(values) -> np.ndarray:
    return np.tile(np.asarray(values, dtype=np.float64)[:, np.newaxis], (1, 6))


def test_the_prefix_starts_at_the_first_action_not_yet_due_when_the_observation_was_taken():
    s = scheduler(initial_latency_s=0.1)
    s.on_chunk(ChunkReply(ramp(np.arange(16) / 100), 0.0, cold=True), 0.0)
    prefix = s.rtc_prefix(5.5 * STEP)
    assert prefix.anchor_time == pytest.approx(6 * STEP)
    np.testing.assert_allclose(prefix.tail[:, 0], np.arange(6, 16) / 100)
    assert prefix.frozen_steps == math.ceil((0.1 + 0.05) * 30) + 1 == 6
    assert s.rtc_prefix(16.5 * STEP) is None, "the plan has run out: a cold request"
    s.reset(np.zeros(6))
    assert s.rtc_prefix(1 * STEP) is None, "an episode boundary: no prefix"


def test_a_chunk_that_continues_the_tail_is_spliced_in_at_now_without_a_step():
    s = scheduler(initial_latency_s=0.1)
    s.on_chunk(ChunkReply(ramp(np.arange(16) / 100), 0.0, cold=True), 0.0)
    prefix = s.rtc_prefix(5.5 * STEP)
    before = s.tick(9.2 * STEP).target
    new = np.concatenate([prefix.tail, ramp(np.full(6, 0.5))])  # frozen rows as sent, then something else
    assert s.on_chunk(ChunkReply(new, 5.5 * STEP, prefix, rtc=True), 9.2 * STEP)
    np.testing.assert_allclose(s.tick(9.2 * STEP).target, before, atol=1e-12)
    np.testing.assert_allclose(s.tick(10 * STEP).target, 0.10), "new row 4 is tail row 4: action 10"
    assert s.counters["rtc_chunks"] == 1 and "rtc_late" not in s.counters


def test_a_tail_whose_first_action_is_still_ahead_is_reached_from_what_is_commanded_now():
    """A 4 fps policy: the first action not yet due at the observation is up to 0.25 s after the reply lands."""
    s = scheduler(action_hz=4.0, initial_latency_s=0.05)
    s.on_chunk(ChunkReply(ramp(np.arange(16) / 10), 0.0, cold=True), 0.0)
    prefix = s.rtc_prefix(1.03)
    assert prefix.anchor_time == pytest.approx(1.25)
    before = [s.tick(t).target[0] for t in (1.08, 1.15, 1.25)]
    assert s.on_chunk(ChunkReply(np.concatenate([prefix.tail, ramp(np.full(6, 2.0))]), 1.03, prefix, rtc=True), 1.08)
    np.testing.assert_allclose([s.tick(t).target[0] for t in (1.08, 1.15, 1.25)], before, atol=1e-12)


def test_a_reply_landing_after_its_frozen_rows_is_counted_late():
    s = scheduler()
    s.on_chunk(ChunkReply(ramp(np.arange(16) / 100), 0.0), 0.0)
    prefix = RtcPrefix(6 * STEP, ramp(np.arange(6, 16) / 100), frozen_steps=2)
    s.on_chunk(ChunkReply(ramp(np.arange(6, 22) / 100), 5.5 * STEP, prefix, rtc=True), 9.2 * STEP)
    assert s.counters["rtc_late"] == 1


def test_the_frozen_steps_follow_the_p95_latency_without_the_warm_up_and_survive_one_stall():
    s = scheduler(initial_latency_s=0.3, latency_window=10)
    s.on_chunk(ChunkReply(ramp(np.zeros(16)), 0.0, cold=True), 0.7)  # the warm-up: never counted
    for k in range(1, 30):
        s.on_chunk(ChunkReply(ramp(np.zeros(16)), k, rtc=True), k + (0.9 if k == 25 else 0.1))
    assert s.latency_estimate_s == pytest.approx(0.9), "the request lead follows the stall at once"
    assert s.frozen_steps == math.ceil((0.1 + 0.05) * 30) + 1, "one stall in 29 leaves the p95 at the steady latency"


@pytest.mark.parametrize("horizon,latency_s,blend_steps", [(40, 0.3, 8), (40, 0.5, 4), (16, 0.3, 0), (24, 0.2, 6)])
def test_with_rtc_the_next_request_leaves_room_for_the_ramp_as_far_as_the_chunk_allows(horizon, latency_s, blend_steps):
    """blend = min(rtc_blend_steps, T − 2d) with d the lead in steps: d ≤ s ≤ T − d (gr00t-rtc.md §3)."""
    s = scheduler(request_margin_s=0.05, rtc_blend_steps=8)
    s.on_chunk(ChunkReply(ramp(np.zeros(horizon)), 1.0), 1.0 + latency_s)
    s.on_chunk(ChunkReply(ramp(np.zeros(horizon)), 1.0 + latency_s, rtc=True), 1.0 + 2 * latency_s)
    lead = latency_s + 0.05 + STEP + blend_steps * STEP
    end = s.planned_until()
    assert not s.should_request(end - lead - 0.001) and s.should_request(end - lead + 0.001)


def test_the_ramp_weights_are_the_action_heads():
    """§1: n = 10 → about 0.42, 0.67, 0.81, 0.89, 0.94, 0.96, 0.98, 0.99, 1, 1; r = 0 freezes the overlap."""
    np.testing.assert_allclose(velocity_weights(RtcOptions(10, 10, 0), 10),
                               [0.42, 0.67, 0.81, 0.89, 0.94, 0.96, 0.98, 0.99, 1, 1], atol=0.006)
    np.testing.assert_array_equal(velocity_weights(RtcOptions(16, 8, 2, 0.0), 10), [0] * 8 + [1, 1])


@pytest.mark.parametrize("options,message", [
    ({"action_horizon": 41, "rtc_overlap_steps": 4, "rtc_frozen_steps": 2, "rtc_ramp_rate": 6.0}, "1..40"),
    ({"action_horizon": 8, "rtc_overlap_steps": 9, "rtc_frozen_steps": 2, "rtc_ramp_rate": 6.0}, "overlap"),
    ({"action_horizon": 8, "rtc_overlap_steps": 4, "rtc_frozen_steps": 5, "rtc_ramp_rate": 6.0}, "frozen"),
    ({"action_horizon": 8, "rtc_overlap_steps": 4, "rtc_frozen_steps": 2}, "missing rtc_ramp_rate"),
    ({"action_horizon": 2.5, "rtc_overlap_steps": 2, "rtc_frozen_steps": 1, "rtc_ramp_rate": 6.0}, "whole"),
])
def test_options_the_action_head_would_trip_on_are_refused_with_a_reason(options, message):
    with pytest.raises(ValueError, match=message):
        RtcOptions.from_wire(options)
