"""Synthetic backend: a STAND-IN FOR A MODEL that makes smooth trajectories, with a model's latency and noise.

It lets the whole deployment path (wire, RTC, streaming, safety filter, takeover) run here with no
GPU and no checkpoint, under conditions a test or a benchmark chooses:

  * motion: each chunk continues a reference motion from the observed state — joint j moves
    along amplitude_j·sin(2π·t/period_s + j) — so, like a policy, it answers from wherever the arm
    is; row k is the command for the observation's time + k/fps (row 0 = the observation's frame);
  * latency: every get_action takes `latency_s` (the server's one thread is busy meanwhile, as a
    GPU server's is); the first one after start-up takes `first_latency_s` (a model's warm-up);
  * noise: each chunk is offset by a fresh N(0, noise_rad²) per joint (a policy's chunk-to-chunk
    variance, which is what makes chunk boundaries jump);
  * RTC: a request carrying a previous chunk gets exactly what the N1.7 head makes of it
    (inpainting.py): the frozen prefix back as sent, the ramp blended, the rest fresh.

Chunks are in the policy's units and keyed as the data config and generation lay them out, like
the replay backend's; the observation is checked as a strict Isaac-GR00T server checks it.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from so101_calibration import JOINT_NAMES, ArmCalibration
from so101_policy.embodiment.data_config import DataConfig
from so101_policy.embodiment.joint_units import JointUnits, PolicyUnits
from so101_policy.embodiment.layout import action_reply, observed_state
from so101_policy.embodiment.observation_schema import validate_observation
from so101_policy.server.backends.inpainting import inpaint, previous_chunk
from so101_policy.wire.generations import Protocol
from so101_policy.wire.modality import ModalityConfig

DEFAULT_AMPLITUDE_RAD = (0.25, 0.2, 0.2, 0.15, 0.3, 0.2)
"""Per joint (JOINT_NAMES order): well inside an SO-101's range around any pose away from its ends."""


@dataclass(frozen=True)
class SyntheticConfig:
    latency_s: float = 0.1
    """Time every get_action takes (the inference)."""
    first_latency_s: float | None = None
    """The first get_action's time (a model's warm-up, e.g. 0.7 s); None: latency_s."""
    noise_rad: float = 0.0
    """σ of each chunk's offset per joint (chunk-to-chunk variance)."""
    amplitude_rad: tuple[float, ...] = DEFAULT_AMPLITUDE_RAD
    period_s: float = 4.0
    fps: float = 30.0
    """The policy's step rate: row k is due k/fps after the observation."""
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("latency_s", "noise_rad"):
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) >= 0):
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.first_latency_s is not None and not self.first_latency_s >= 0:
            raise ValueError(f"first_latency_s must be >= 0, got {self.first_latency_s}")
        for name in ("period_s", "fps"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if len(self.amplitude_rad) != len(JOINT_NAMES) or not all(math.isfinite(a) for a in self.amplitude_rad):
            raise ValueError(f"amplitude_rad needs {len(JOINT_NAMES)} finite values, got {self.amplitude_rad}")

    def motion(self, t: np.ndarray) -> np.ndarray:
        """(N, 6) radians: the reference motion at times t (its value only matters up to a constant)."""
        phase = 2 * np.pi * np.asarray(t, dtype=np.float64)[:, np.newaxis] / self.period_s + np.arange(6)
        return np.asarray(self.amplitude_rad) * np.sin(phase)

    @property
    def largest_step_rad(self) -> float:
        """The largest change of a joint between two rows (the motion's own step, for comparisons)."""
        return max(abs(a) for a in self.amplitude_rad) * 2 * math.pi / self.period_s / self.fps


class SyntheticPolicy:
    """A Policy (backends.base) standing in for a model; `clock` and `sleep` are injectable for tests."""

    def __init__(
        self,
        config: SyntheticConfig,
        data_config: DataConfig,
        protocol: Protocol,
        policy_units: JointUnits = JointUnits.RADIANS,
        calibration: ArmCalibration | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.config = config
        self.data_config = data_config
        self.protocol = protocol
        self.units = PolicyUnits(policy_units, calibration)
        self._clock = clock
        self._sleep = sleep
        self._rng = np.random.default_rng(config.seed)
        self._warm = False

    def get_modality_config(self) -> dict[str, ModalityConfig]:
        return self.data_config.modality_configs(self.protocol)

    def reset(self, options: dict[str, Any] | None) -> dict[str, Any]:
        """A new episode: the noise starts over from the seed (the motion needs no reset: it follows the state)."""
        self._rng = np.random.default_rng(self.config.seed)
        return {}

    def get_action(
        self, observation: dict[str, Any], options: dict[str, Any] | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        validate_observation(observation, self.data_config, self.protocol)
        previous = previous_chunk(observation, options, self.data_config) if self.protocol.nested else None
        observed = self._clock()
        state = self.units.to_radians(observed_state(observation, self.data_config, self.protocol))
        times = observed + np.arange(self.data_config.action_horizon) / self.config.fps
        motion = self.config.motion(times)
        chunk = state + motion - motion[0] + self._rng.normal(0.0, self.config.noise_rad, len(JOINT_NAMES))
        chunk = self.units.from_radians(chunk)
        if previous is not None:
            chunk = inpaint(chunk, previous)
        self._sleep(self.config.latency_s if self._warm or self.config.first_latency_s is None
                    else self.config.first_latency_s)
        self._warm = True
        return action_reply(chunk, self.data_config, self.protocol), {}
