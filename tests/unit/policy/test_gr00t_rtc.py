"""The gr00t backend's RTC wiring: a request's previous chunk and options reach an N1.7 action head.

There is no GPU, no checkpoint and no Isaac-GR00T here, so the GPU boundary is mocked by
StandInGr00tN17Policy, a STAND-IN of Isaac-GR00T N1.7's Gr00tPolicy with the same pipeline and
interface (check_observation, _unbatch_observation, _to_vla_step_data, processor, collate_fn,
model.get_action(inputs, options), processor.decode_action; numpy where upstream uses torch) and,
like upstream (docs/reference/gr00t-rtc.md §2), dropping observation["action"] and the options.
Its StandInGr00tN1d7Model records what the action head would receive and keeps frozen rows as the
N1.7 head does (§1). Everything on our side of that boundary (adapter, server, wire, client,
canary) is real.
"""
from __future__ import annotations

import logging
import types
from dataclasses import dataclass

import numpy as np
import pytest

from so101_policy import (
    ActionDecoder,
    JointUnits,
    ObservationBuilder,
    PolicyUnits,
    Protocol,
    RobotObservation,
    default_data_config,
)
from so101_policy.server.backends.gr00t import Gr00tConfig, Gr00tN16Policy, Gr00tN17Policy, wrap_n16_policy
from so101_policy.streaming import PolicyChunkSource, RtcConfig, RtcPrefix, RtcState

PROTOCOL = Protocol.N1_7
T = 16
MODEL_HORIZON, MODEL_DIM = 40, 132
GROUPS = {"single_arm": slice(0, 5), "gripper": slice(5, 6)}
Q01 = np.stack([np.r_[np.full(5, -1.0 - row / 10), 0.0] for row in range(T)])
"""Per horizon row (relative arm actions' statistics differ by row, §2), per joint; the gripper's are absolute."""
Q99 = np.stack([np.r_[np.full(5, 1.0 + row / 10), 1.0] for row in range(T)])


@dataclass
class StandInVLAStepData:
    """MOCK of gr00t.data.types.VLAStepData (the fields the pipeline uses)."""

    images: dict
    states: dict
    actions: dict
    text: str
    embodiment: str


class StandInProcessor:
    """MOCK of the N1.7 processor: actions relative to the current state (arm), min-max normalized with per-row
    q01/q99, concatenated and zero-padded to (40, 132); decode_action undoes it on the first T rows."""

    def __init__(self):
        self.clip_outliers = True
        self.state_action_processor = types.SimpleNamespace(clip_outliers=True)

    def __call__(self, messages):
        step = messages[0]["content"]
        processed = {"state": np.concatenate([step.states["single_arm"], step.states["gripper"]], axis=-1)}
        if step.actions:
            rows = np.concatenate([step.actions["single_arm"], step.actions["gripper"]], axis=-1).astype(np.float64)
            rows[:, :5] -= step.states["single_arm"][0]
            padded = np.zeros((MODEL_HORIZON, MODEL_DIM))
            padded[:T, :6] = 2 * (rows - Q01) / (Q99 - Q01) - 1
            processed["action"] = padded
        return processed

    def decode_action(self, normalized, embodiment, states):
        rows = (normalized[:, :T, :6] + 1) / 2 * (Q99 - Q01) + Q01
        rows[:, :, :5] += states["single_arm"]
        return {name: rows[:, :, part] for name, part in GROUPS.items()}


class StandInGr00tN1d7Model:
    """MOCK of the N1.7 model: records each get_action's `action` input and options; its head answers 0.5
    (normalized) everywhere, except that with a previous chunk rows [0, f) are rows [AH − o, AH − o + f) of it."""

    def __init__(self):
        self.calls: list[tuple[np.ndarray | None, dict | None]] = []

    def get_action(self, inputs, options=None):
        previous = inputs.get("action")
        self.calls.append((previous, options))
        prediction = np.full((1, MODEL_HORIZON, MODEL_DIM), 0.5)
        if previous is not None:
            start = options["action_horizon"] - options["rtc_overlap_steps"]
            frozen = options["rtc_frozen_steps"]
            prediction[:, :frozen] = previous[:, start:start + frozen]
        return {"action_pred": prediction}


class StandInGr00tN17Policy:
    """MOCK of Isaac-GR00T N1.7's gr00t.policy.gr00t_policy.Gr00tPolicy: upstream's get_action pipeline."""

    def __init__(self, model):
        self.model = model
        self.processor = StandInProcessor()
        self.language_key = "annotation.human.task_description"

    def get_action(self, observation, options=None):
        self.check_observation(observation)
        return self._get_action(observation, options)

    def check_observation(self, observation):
        for modality in ("video", "state", "language"):  # an extra "action" key passes unnoticed, as upstream
            assert isinstance(observation[modality], dict)

    def _unbatch_observation(self, value):
        return [{"video": {k: v[0] for k, v in value["video"].items()},
                 "state": {k: v[0] for k, v in value["state"].items()},
                 "language": {k: v[0] for k, v in value["language"].items()}}]

    def _to_vla_step_data(self, observation):
        return StandInVLAStepData(observation["video"], observation["state"], {},
                                  observation["language"][self.language_key][0], "new_embodiment")

    def collate_fn(self, processed):
        return {"inputs": {key: np.stack([p[key] for p in processed]) for key in processed[0]}}

    def _get_action(self, observation, options=None):
        states, processed = [], []
        for obs in self._unbatch_observation(observation):
            step = self._to_vla_step_data(obs)
            states.append(step.states)
            processed.append(self.processor([{"type": "episode_step", "content": step}]))
        prediction = self.model.get_action(**self.collate_fn(processed))  # upstream passes no options
        batched = {k: np.stack([s[k] for s in states]) for k in states[0]}
        decoded = self.processor.decode_action(prediction["action_pred"], "new_embodiment", batched)
        return {k: v.astype(np.float32) for k, v in decoded.items()}, {}

    def get_modality_config(self):
        return default_data_config(PROTOCOL).modality_configs(PROTOCOL)

    def reset(self, options=None):
        return {}


class StandInGr00tN1d6Model(StandInGr00tN1d7Model):
    """MOCK of an N1.6 model (its head reads a previous chunk's first rows: nothing our clients send)."""


FRAME = np.zeros((24, 32, 3), np.uint8)
PRESENT = np.array([0.2, -0.3, 0.4, 0.1, -0.2, 0.5])


def source_for(port: int, connect) -> PolicyChunkSource:
    config, units = default_data_config(PROTOCOL), PolicyUnits(JointUnits.RADIANS)
    observe = lambda: RobotObservation(PRESENT, {"front": FRAME, "wrist": FRAME}, "wave", 3.0)  # noqa: E731
    return PolicyChunkSource(connect(port, protocol=PROTOCOL), ObservationBuilder(config, PROTOCOL, units),
                             ActionDecoder(config, PROTOCOL, units), observe, T, RtcConfig())


def test_an_n17_model_gets_the_wiring_and_clipping_is_switched_off():
    upstream = StandInGr00tN17Policy(StandInGr00tN1d7Model())
    policy = wrap_n16_policy(upstream, Gr00tConfig("/models/so101"))
    assert isinstance(policy, Gr00tN17Policy)
    assert not upstream.processor.clip_outliers and not upstream.processor.state_action_processor.clip_outliers


def test_the_previous_chunk_and_options_reach_the_action_head_and_the_canary_comes_back(serve, connect):
    model = StandInGr00tN1d7Model()
    served = serve(wrap_n16_policy(StandInGr00tN17Policy(model), Gr00tConfig("/models/so101")), PROTOCOL)
    source = source_for(served.port, connect)
    source(lambda t: None)  # the canary, then a plain request
    assert source.rtc_state is RtcState.HONOURED, "frozen rows came back through normalization and decoding"
    (canary_action, canary_options), (plain_action, plain_options) = model.calls
    assert canary_options == {"action_horizon": T, "rtc_overlap_steps": T, "rtc_frozen_steps": T, "rtc_ramp_rate": 6.0}
    assert plain_action is None and plain_options is None, "a request without a prefix is upstream's own"

    tail = PRESENT + np.linspace(0.0, 0.2, 5)[:, np.newaxis]
    reply = source(lambda t: RtcPrefix(3.02, tail, frozen_steps=3))
    previous, options = model.calls[-1]
    assert options == {"action_horizon": 5, "rtc_overlap_steps": 5, "rtc_frozen_steps": 3, "rtc_ramp_rate": 6.0}
    assert previous.shape == (1, MODEL_HORIZON, MODEL_DIM)
    relative = np.concatenate([tail[:, :5] - PRESENT[:5], tail[:, 5:]], axis=1)  # the processor's own encoding
    np.testing.assert_allclose(previous[0, :5, :6], 2 * (relative - Q01[:5]) / (Q99[:5] - Q01[:5]) - 1, atol=1e-6)
    padding = (previous[0, 5:T, :6] + 1) / 2 * (Q99[5:] - Q01[5:]) + Q01[5:]  # each row with its own statistics
    np.testing.assert_allclose(padding, np.repeat(relative[-1:], T - 5, axis=0), atol=1e-6), \
        "rows L..T-1 hold the tail's last row"
    np.testing.assert_allclose(reply.actions[:3], tail[:3], atol=1e-5), "the frozen rows are the tail"


@pytest.mark.parametrize("model,config", [(StandInGr00tN1d6Model(), Gr00tConfig("/m")),
                                          (StandInGr00tN1d7Model(), Gr00tConfig("/m", rtc=False))])
def test_without_the_wiring_the_server_is_stock_and_the_client_cross_fades(serve, connect, model, config, caplog):
    with caplog.at_level(logging.WARNING):
        policy = wrap_n16_policy(StandInGr00tN17Policy(model), config)
    assert type(policy) is Gr00tN16Policy
    source = source_for(serve(policy, PROTOCOL).port, connect)
    source(lambda t: None)
    assert source.rtc_state is RtcState.IGNORED
    assert all(previous is None and options is None for previous, options in model.calls), "dropped, as upstream does"
