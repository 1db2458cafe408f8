"""The synthetic backend (a stand-in for a model): smooth motion from the state, latency, noise, RTC's semantics.

Direct calls with an injected clock and sleep for the semantics; one exchange over the wire with a
real client for the RTC path as a patched N1.7 server would serve it.
"""
from __future__ import annotations

import numpy as np
import pytest

from so101_policy import ObservationError, PolicyServerError, Protocol, default_data_config
from so101_policy.embodiment.joint_units import JointUnits
from so101_policy.server.backends.synthetic import SyntheticConfig, SyntheticPolicy
from so101_policy.wire.rtc_options import RtcOptions, velocity_weights

PROTOCOL = Protocol.N1_7
FRAME = np.zeros((1, 1, 24, 32, 3), np.uint8)
STATE = np.array([0.1, -0.2, 0.3, -0.1, 0.0, 0.4])


class Sleeps:
    """The durations the backend slept for (a recording stand-in for time.sleep)."""

    def __init__(self):
        self.durations: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.durations.append(seconds)


def policy(horizon: int = 40, **config) -> tuple[SyntheticPolicy, Sleeps]:
    sleeps = Sleeps()
    data_config = default_data_config(PROTOCOL).with_overrides(action_horizon=horizon)
    return SyntheticPolicy(SyntheticConfig(**config), data_config, PROTOCOL, JointUnits.RADIANS,
                           clock=lambda: 5.0, sleep=sleeps), sleeps


def observation(state=STATE, previous: np.ndarray | None = None) -> dict:
    obs = {"video": {"front": FRAME, "wrist": FRAME},
           "state": {"single_arm": state[np.newaxis, np.newaxis, :5].astype(np.float32),
                     "gripper": state[np.newaxis, np.newaxis, 5:].astype(np.float32)},
           "language": {"annotation.human.task_description": [["wave"]]}}
    if previous is not None:
        obs["action"] = {"single_arm": previous[np.newaxis, :, :5].astype(np.float32),
                         "gripper": previous[np.newaxis, :, 5:].astype(np.float32)}
    return obs


def chunk_of(action: dict) -> np.ndarray:
    return np.concatenate([action["single_arm"][0], action["gripper"][0]], axis=1).astype(np.float64)


def test_a_chunk_continues_a_smooth_motion_from_the_observed_state():
    synthetic, _ = policy()
    action, info = synthetic.get_action(observation(), None)
    chunk = chunk_of(action)
    assert chunk.shape == (40, 6) and info == {}
    np.testing.assert_allclose(chunk[0], STATE, atol=1e-6), "row 0 is the command for the observation's frame"
    steps = np.abs(np.diff(chunk, axis=0))
    assert steps.max() <= synthetic.config.largest_step_rad + 1e-6 and steps.max() > 0.5 * synthetic.config.largest_step_rad


def test_each_chunk_is_offset_by_fresh_noise_and_a_reset_replays_it():
    synthetic, _ = policy(noise_rad=0.02, seed=3)
    first, second = (chunk_of(synthetic.get_action(observation(), None)[0]) for _ in range(2))
    offsets = first - second
    assert np.allclose(offsets, offsets[0], atol=1e-6) and 0.005 < np.abs(offsets[0]).max() < 0.1
    synthetic.reset(None)
    np.testing.assert_allclose(chunk_of(synthetic.get_action(observation(), None)[0]), first, atol=1e-7)


def test_the_first_inference_takes_the_warm_up_latency_and_the_others_the_steady_one():
    synthetic, sleeps = policy(latency_s=0.15, first_latency_s=0.7)
    for _ in range(3):
        synthetic.get_action(observation(), None)
    assert sleeps.durations == [0.7, 0.15, 0.15]


def test_a_previous_chunk_comes_back_frozen_then_blended_as_the_n17_head_does():
    synthetic, _ = policy(horizon=16)
    fresh = chunk_of(synthetic.get_action(observation(), None)[0])
    previous = np.tile(np.linspace(1.0, 1.3, 16)[:, np.newaxis], (1, 6))  # far from the fresh chunk: easy to see
    options = RtcOptions(action_horizon=10, overlap_steps=8, frozen_steps=3)
    chunk = chunk_of(synthetic.get_action(observation(previous=previous), options.to_wire())[0])
    seed = previous[2:10]  # rows [AH − o, AH) seed rows [0, o)
    np.testing.assert_allclose(chunk[:3], seed[:3], atol=1e-6), "frozen rows: the prefix as sent"
    weights = velocity_weights(options, 16)[3:8, np.newaxis]
    np.testing.assert_allclose(chunk[3:8], (1 - weights) * seed[3:8] + weights * fresh[3:8], atol=1e-5)
    np.testing.assert_allclose(chunk[8:], fresh[8:], atol=1e-6), "past the overlap: the fresh prediction"


@pytest.mark.parametrize("options,message", [
    (None, "needs the RTC options"),
    ({"action_horizon": 17, "rtc_overlap_steps": 4, "rtc_frozen_steps": 2, "rtc_ramp_rate": 6.0}, "exceeds the 16 rows"),
])
def test_a_malformed_rtc_request_gets_an_error_reply_naming_the_problem(serve, connect, options, message):
    synthetic, _ = policy(horizon=16, latency_s=0.0)
    client = connect(serve(synthetic, PROTOCOL).port, protocol=PROTOCOL)
    with pytest.raises(PolicyServerError, match=message):
        client.get_action(observation(previous=np.zeros((16, 6))), options)
    with pytest.raises(ObservationError, match="float32 of shape"):
        bad = observation()
        bad["action"] = {"single_arm": np.zeros((1, 16, 5)), "gripper": np.zeros((1, 16, 1), np.float32)}
        synthetic.get_action(bad, RtcOptions(4, 4, 2).to_wire())
