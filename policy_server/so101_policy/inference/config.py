"""InferenceConfig: the inference node's parameters, one frozen dataclass field per ROS parameter.

It lives here, in the pure library, so the configuration a deployment runs with is validated
and turned into the streaming objects (SchedulerConfig, ValidationConfig, PolicyUnits) by code
that tests reach without ROS; the node only declares the fields (so101_hardware.ros.params).
ROS parameters have no None and no maps, so "not set" is an empty string and a camera's topic
rides in its entry ("wrist" or "wrist=/other/image_raw").
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import TypeVar

from so101_calibration import DEFAULT_MARGIN_RAD, ArmCalibration, joint_limits
from so101_calibration.interface_contract import FOLLOWER_JOINT_COMMANDS, LOOPBACK_HOST, POLICY_PORT, camera_topics
from so101_policy.embodiment.data_config import DATA_CONFIGS
from so101_policy.embodiment.joint_units import JointUnits, PolicyUnits
from so101_policy.streaming import BlendMode, RtcConfig, SchedulerConfig, ValidationConfig
from so101_policy.wire.client import AUTO
from so101_policy.wire.generations import Protocol

E = TypeVar("E", bound=Enum)
RTC_CHOICES = ("auto", "off")

REQUEST_TIMEOUT_MARGIN_S = 2.0
"""The scheduler gives a request up this long after the client's own timeout would have ended it:
the client's timeout is what normally ends a request (and recreates its socket); the
scheduler's is only the backstop against a request that never returns."""


def _param(default, help: str):
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class InferenceConfig:
    # --- the policy server ---------------------------------------------------------------------
    host: str = _param(LOOPBACK_HOST, "policy server address (the local end of an SSH tunnel, or the GPU machine)")
    port: int = _param(POLICY_PORT, "policy server port")
    protocol: str = _param(AUTO, "wire generation: auto | n1.5 | n1.6 | n1.7 (auto asks the server)")
    api_token: str = _param("", "the server's --api-token; empty: none")
    timeout_s: float = _param(2.0, "a request unanswered this long fails (the arm holds) and is retried")
    # --- what the checkpoint expects -----------------------------------------------------------
    data_config: str = _param(
        "", "so100 | so100_dualcam | so100_new_embodiment; empty: the default of the server's generation"
    )
    language_key: str = _param("", "the instruction's key; empty: the one the server's modality config names")
    instruction: str = _param("", "the task, until one arrives on policy/instruction")
    units: str = _param("degrees", "the policy's joint units: degrees | normalized (LeRobot) | radians")
    arm_id: str = _param("follower", "the follower's id: its calibration converts units and gives joint limits")
    calibration: str = _param("", "follower calibration .json or folder; empty: LeRobot's default locations")
    cameras: tuple[str, ...] = _param(
        ("front", "wrist"), "data-config camera names; each reads cameras/<name>/image_raw, or <name>=<topic>"
    )
    # --- streaming -----------------------------------------------------------------------------
    control_hz: float = _param(30.0, "rate of the published follower/joint_commands")
    action_hz: float = _param(30.0, "rate of the policy's action steps (its training data's fps)")
    blend: str = _param("crossfade", "how a new chunk joins the plan: latest | crossfade | ensemble")
    crossfade_s: float = _param(0.2, "crossfade: time over which a new chunk takes over")
    ensemble_decay: float = _param(0.0, "ensemble: weight factor exp(decay) per newer chunk on older predictions")
    max_chunk_age_s: float = _param(1.0, "chunks whose observation is older than this on arrival are dropped")
    max_observation_age_s: float = _param(
        0.25, "no request with a joint state or camera frame older than this (the arm holds instead)"
    )
    # --- real-time chunking (docs/reference/gr00t-rtc.md) ----------------------------------------
    rtc: str = _param("auto", "auto: send the plan's tail with each request when the server honours it (a canary "
                              "request tells; else cross-fade) | off: cross-fade only")
    rtc_ramp_rate: float = _param(RtcConfig.ramp_rate, "steepness of the blend after the frozen steps (0: freeze all)")
    rtc_overlap_steps: int = _param(RtcConfig.overlap_steps, "tail rows the new chunk takes over; 0: the whole tail")
    rtc_blend_steps: int = _param(
        SchedulerConfig.rtc_blend_steps, "ask this many steps earlier than the delay needs, for the blend (T allowing)"
    )
    command_topic: str = _param(
        FOLLOWER_JOINT_COMMANDS.name, "where the targets go: the follower's commands, or a command mux's policy input"
    )
    # --- the check on every chunk (the follower's safety filter still checks every command) ----
    limit_margin_rad: float = _param(DEFAULT_MARGIN_RAD, "kept clear of the calibrated ends (as the follower's)")
    clamp_tolerance_rad: float = _param(math.radians(10.0), "values this far past a limit are clamped, farther rejected")
    max_step_rad: float = _param(math.radians(20.0), "largest change of a joint between consecutive actions")
    max_start_jump_rad: float = _param(math.radians(30.0), "largest distance of a chunk from the commanded target")
    run_on_start: bool = _param(False, "start streaming at the first follower state, as policy/run true would")

    def __post_init__(self) -> None:
        """Refuse what cannot work before anything connects; the limits are checked where the
        calibration is known (validation_config)."""
        if self.protocol != AUTO:
            Protocol.parse(self.protocol)
        if not 0 < self.port < 65536:
            raise ValueError(f"port must be 1..65535, got {self.port}")
        if self.data_config and self.data_config not in DATA_CONFIGS:
            raise ValueError(f"unknown data_config {self.data_config!r}; known: {', '.join(DATA_CONFIGS)}")
        for name in ("timeout_s", "max_observation_age_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        _choice(JointUnits, "units", self.units)
        if self.rtc not in RTC_CHOICES:
            raise ValueError(f"rtc must be one of {' | '.join(RTC_CHOICES)}, got {self.rtc!r}")
        camera_topics(self.cameras)
        self.scheduler_config()
        self.rtc_config()

    @property
    def camera_topics(self) -> dict[str, str]:
        """Camera name (as the data config calls it) → image topic."""
        return camera_topics(self.cameras)

    def scheduler_config(self) -> SchedulerConfig:
        return SchedulerConfig(
            control_hz=self.control_hz,
            action_hz=self.action_hz,
            blend=_choice(BlendMode, "blend", self.blend),
            crossfade_s=self.crossfade_s,
            ensemble_decay=self.ensemble_decay,
            request_timeout_s=self.timeout_s + REQUEST_TIMEOUT_MARGIN_S,
            max_chunk_age_s=self.max_chunk_age_s,
            rtc_blend_steps=self.rtc_blend_steps,
        )

    def rtc_config(self) -> RtcConfig:
        return RtcConfig(enabled=self.rtc == "auto", ramp_rate=self.rtc_ramp_rate,
                         overlap_steps=self.rtc_overlap_steps)

    def validation_config(self, calibration: ArmCalibration) -> ValidationConfig:
        return ValidationConfig(
            joint_limits(calibration, margin_rad=self.limit_margin_rad),
            clamp_tolerance_rad=self.clamp_tolerance_rad,
            max_step_rad=self.max_step_rad,
            max_start_jump_rad=self.max_start_jump_rad,
        )

    def policy_units(self, calibration: ArmCalibration) -> PolicyUnits:
        return PolicyUnits(_choice(JointUnits, "units", self.units), calibration)


def _choice(enum: type[E], name: str, value: str) -> E:
    try:
        return enum(value)
    except ValueError:
        raise ValueError(f"{name} must be one of {' | '.join(m.value for m in enum)}, got {value!r}") from None
