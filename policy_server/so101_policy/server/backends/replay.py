"""Replay backend: serves action chunks from a recorded episode, as a GR00T server would.

So the whole deploy path (observation building, wire, scheduling, safety filter) runs on this
machine with real data and no GPU. The chunk returned at time t after `reset` starts at the
episode frame recorded at that time (frame = ⌊(t − t_reset)·fps⌋; the first get_action starts
the clock if reset was never called) and holds `action_horizon` frames, the last frame repeated
past the episode's end. Chunks are in the policy's units and keyed as the data config and
generation lay them out, exactly as a fine-tuned checkpoint would answer; the observation is
checked like a strict Isaac-GR00T server checks it, and otherwise ignored, except for a previous
chunk (real-time chunking): the recording is then blended into it as the N1.7 action head does
(inpainting.py), so a client's RTC path runs against a replay too.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from so101_calibration import ArmCalibration
from so101_policy.embodiment.data_config import DataConfig
from so101_policy.embodiment.joint_units import JointUnits, convert_units
from so101_policy.embodiment.layout import action_reply
from so101_policy.embodiment.observation_schema import validate_observation
from so101_policy.server.backends.inpainting import inpaint, previous_chunk
from so101_policy.server.datasets import RecordedEpisode
from so101_policy.wire.generations import Protocol
from so101_policy.wire.modality import ModalityConfig


class ReplayPolicy:
    """A Policy (backends.base) over one episode; `clock` is injectable for deterministic tests."""

    def __init__(
        self,
        episode: RecordedEpisode,
        data_config: DataConfig,
        protocol: Protocol,
        policy_units: JointUnits,
        calibration: ArmCalibration | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.episode = episode
        self.data_config = data_config
        self.protocol = protocol
        self.policy_units = policy_units
        self._actions = convert_units(episode.actions, episode.units, policy_units, calibration).astype(np.float32)
        self._clock = clock
        self._start: float | None = None

    def get_modality_config(self) -> dict[str, ModalityConfig]:
        return self.data_config.modality_configs(self.protocol)

    def reset(self, options: dict[str, Any] | None) -> dict[str, Any]:
        self._start = self._clock()
        return {}

    def get_action(
        self, observation: dict[str, Any], options: dict[str, Any] | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        validate_observation(observation, self.data_config, self.protocol)
        now = self._clock()
        if self._start is None:
            self._start = now
        frame = self.frame_at(now - self._start)
        chunk = self._chunk_from(frame)
        if self.protocol.nested:
            previous = previous_chunk(observation, options, self.data_config)
            if previous is not None:
                chunk = inpaint(chunk, previous)
        return action_reply(chunk, self.data_config, self.protocol), {"replay_frame_index": frame}

    def frame_at(self, elapsed_s: float) -> int:
        """The recorded frame for `elapsed_s` since the start (clamped to the episode)."""
        frame = int(np.floor(max(elapsed_s, 0.0) * self.episode.fps + 1e-9))
        return min(frame, len(self._actions) - 1)

    def _chunk_from(self, frame: int) -> np.ndarray:
        rows = np.minimum(np.arange(frame, frame + self.data_config.action_horizon), len(self._actions) - 1)
        return self._actions[rows]
