"""gr00t backend: Isaac-GR00T's own policy classes behind our server (GPU machine only).

Isaac-GR00T is imported here and nowhere else, and only when this backend is chosen, so the
rest of the package installs without it. Two upstream APIs exist:
  N1.5 (for protocol n1.5): gr00t.model.policy.Gr00tPolicy(model_path, modality_config,
      modality_transform, embodiment_tag, denoising_steps, device), configured from
      gr00t.experiment.data_config.DATA_CONFIG_MAP[<data config>]; get_action(obs) -> action.
  N1.6+ (for n1.6 / n1.7): gr00t.policy.gr00t_policy.Gr00tPolicy(embodiment_tag, model_path,
      device=, strict=); get_action(observation, options) -> (action, info); reset(options).
      The data config comes with the checkpoint's processor; denoising steps are set on the
      model's action head (num_inference_timesteps).
The adapters below turn either into our Policy interface; they take the upstream object, so
tests drive them with a stand-in of the same interface.

Real-time chunking (docs/reference/gr00t-rtc.md §2): the N1.7 action head inpaints from a previous
chunk, but upstream's policy layer drops both observation["action"] and the options before they
reach it, without an error. For an N1.7 model (served as n1.6 by the release tag, n1.7 by main)
Gr00tN17Policy restores exactly those two steps and leaves the rest (checks, processing, dtype
handling, decoding) to upstream's own code; `clip_outliers` is switched off as RTC needs (§2).
"""
from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from so101_policy.errors import BackendUnavailableError, ObservationError
from so101_policy.wire.generations import Protocol
from so101_policy.wire.modality import ModalityConfig
from so101_policy.wire.rtc_options import ACTION_KEY, RtcOptions

log = logging.getLogger(__name__)

N17_MODEL_MARK = "N1d7"
"""Isaac-GR00T's N1.7 model class is Gr00tN1d7 (gr00t/model/gr00t_n1d7)."""

INSTALL_HINT = (
    "Isaac-GR00T is not installed in this Python environment. On the GPU machine: "
    "`git clone https://github.com/NVIDIA/Isaac-GR00T && cd Isaac-GR00T && pip install -e .` "
    "(Python 3.10, CUDA; check out the release matching your checkpoint: n1.5-release for N1.5), "
    "then `pip install -e <this repo>/calibration -e <this repo>/policy_server` into the same environment. "
    "Without a GPU, use `--backend replay`."
)


@dataclass(frozen=True)
class Gr00tConfig:
    model_path: str
    embodiment_tag: str = "new_embodiment"
    data_config: str = "so100_dualcam"
    """N1.5 only: the name in Isaac-GR00T's DATA_CONFIG_MAP."""
    denoising_steps: int | None = None
    """None: the checkpoint's default (4). Upstream suggests 10–16 against jerky actions."""
    device: str = "cuda"
    rtc: bool = True
    """N1.7 models: hand a request's previous chunk and RTC options to the action head (Gr00tN17Policy)."""
    clip_outliers: bool = False
    """With RTC: the processor's clipping of inputs to q01..q99 (off, as RTC needs: §2)."""


class Gr00tN15Policy:
    """Adapter for an N1.5 Gr00tPolicy: no options, no info, no reset (stateless)."""

    def __init__(self, upstream: Any):
        self.upstream = upstream

    def get_action(self, observation: dict[str, Any], options: dict[str, Any] | None) -> tuple[dict, dict]:
        return self.upstream.get_action(observation), {}

    def get_modality_config(self) -> dict[str, ModalityConfig]:
        return _converted(self.upstream.get_modality_config())

    def reset(self, options: dict[str, Any] | None) -> dict[str, Any]:
        return {}


class Gr00tN16Policy:
    """Adapter for an N1.6+ Gr00tPolicy (already our interface, except its ModalityConfig class)."""

    def __init__(self, upstream: Any):
        self.upstream = upstream

    def get_action(self, observation: dict[str, Any], options: dict[str, Any] | None) -> tuple[dict, dict]:
        action, info = self.upstream.get_action(observation, options)
        return action, info

    def get_modality_config(self) -> dict[str, ModalityConfig]:
        return _converted(self.upstream.get_modality_config())

    def reset(self, options: dict[str, Any] | None) -> dict[str, Any]:
        return self.upstream.reset(options)


class Gr00tN17Policy(Gr00tN16Policy):
    """Adapter for an N1.7 Gr00tPolicy whose requests may carry a previous chunk (real-time chunking).

    Upstream's `_get_action` loses observation["action"] in `_unbatch_observation`, builds its
    VLAStepData with `actions={}` and calls `model.get_action(inputs)` without the options (§2 steps
    2-4). Two hooks on the upstream object put back what it dropped, for the one request in progress:
    the previous actions become the step's `actions`, which upstream's processor turns into the
    model's `action` tensor exactly as it prepares training actions (relative to the current state,
    normalized per horizon row, padded to the model's shape), and the RTC options reach
    `model.get_action`, i.e. the action head. A request without a previous chunk is upstream's own.
    """

    def __init__(self, upstream: Any, clip_outliers: bool = False):
        super().__init__(upstream)
        self._pending: tuple[dict[str, np.ndarray], dict[str, Any]] | None = None
        to_step_data = upstream._to_vla_step_data
        model_get_action = upstream.model.get_action

        def step_data_with_previous_actions(observation: Any) -> Any:
            step = to_step_data(observation)
            if self._pending is not None:
                step.actions = self._pending[0]
            return step

        def model_get_action_with_options(*args: Any, **kwargs: Any) -> Any:
            if self._pending is not None:
                kwargs["options"] = self._pending[1]
            return model_get_action(*args, **kwargs)

        upstream._to_vla_step_data = step_data_with_previous_actions
        upstream.model.get_action = model_get_action_with_options
        if not clip_outliers:
            _switch_off_clipping(upstream)

    def get_action(self, observation: dict[str, Any], options: dict[str, Any] | None) -> tuple[dict, dict]:
        previous = observation.get(ACTION_KEY)
        if previous is None:
            return super().get_action(observation, options)
        try:
            rtc = RtcOptions.from_wire(options)
        except ValueError as exc:
            raise ObservationError(str(exc)) from None
        self._pending = (_previous_actions(previous), rtc.to_wire())
        try:
            return super().get_action({k: v for k, v in observation.items() if k != ACTION_KEY}, options)
        finally:
            self._pending = None


def load_gr00t_policy(config: Gr00tConfig, protocol: Protocol) -> Gr00tN15Policy | Gr00tN16Policy:
    """Load the checkpoint with the Isaac-GR00T API of `protocol`'s release; BackendUnavailableError without it."""
    if protocol is Protocol.N1_5:
        data_configs = _import("gr00t.experiment.data_config").DATA_CONFIG_MAP
        if config.data_config not in data_configs:
            raise ValueError(f"unknown Isaac-GR00T data config {config.data_config!r}; known: {sorted(data_configs)}")
        data_config = data_configs[config.data_config]
        upstream = _import("gr00t.model.policy").Gr00tPolicy(
            model_path=config.model_path,
            modality_config=data_config.modality_config(),
            modality_transform=data_config.transform(),
            embodiment_tag=config.embodiment_tag,
            denoising_steps=config.denoising_steps,
            device=config.device,
        )
        return Gr00tN15Policy(upstream)
    tag = _import("gr00t.data.embodiment_tags").EmbodimentTag(config.embodiment_tag)
    upstream = _import("gr00t.policy.gr00t_policy").Gr00tPolicy(
        embodiment_tag=tag, model_path=config.model_path, device=config.device, strict=True
    )
    if config.denoising_steps is not None:
        _set_denoising_steps(upstream, config.denoising_steps)
    return wrap_n16_policy(upstream, config)


def wrap_n16_policy(upstream: Any, config: Gr00tConfig) -> Gr00tN16Policy:
    """The adapter for an N1.6+ Gr00tPolicy: with RTC for an N1.7 model (its action head inpaints from the last
    rows of the previous chunk, §1), without for N1.6 (whose head reads the first rows: not what clients send)."""
    model = type(getattr(upstream, "model", None)).__name__
    if config.rtc and N17_MODEL_MARK in model:
        log.info("%s: real-time chunking wired through to the action head (clip_outliers %s)", model,
                 "on" if config.clip_outliers else "off")
        return Gr00tN17Policy(upstream, config.clip_outliers)
    if config.rtc:
        log.warning("%s is not an N1.7 model: requests' previous chunks are ignored, as by a stock server", model)
    return Gr00tN16Policy(upstream)


def _import(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise BackendUnavailableError(f"{INSTALL_HINT} (import of {module} failed: {exc})") from None


def _set_denoising_steps(upstream: Any, steps: int) -> None:
    head = getattr(getattr(upstream, "model", None), "action_head", None)
    if head is None or not hasattr(head, "num_inference_timesteps"):
        raise BackendUnavailableError(
            "this Isaac-GR00T version exposes no model.action_head.num_inference_timesteps; "
            "drop --denoising-steps or set it in the checkpoint's config"
        )
    head.num_inference_timesteps = steps


def _previous_actions(previous: Any) -> dict[str, np.ndarray]:
    """observation["action"] of one robot ({group: float32 (1, T, D)}) → the step's actions {group: (T, D)}."""
    if not isinstance(previous, Mapping) or not previous:
        raise ObservationError(f"observation['{ACTION_KEY}'] must map action groups to arrays, got {previous!r:.100}")
    actions = {}
    for key, value in previous.items():
        array = np.asarray(value)
        if array.dtype != np.float32 or array.ndim != 3 or array.shape[0] != 1:
            raise ObservationError(f"observation['{ACTION_KEY}']['{key}'] must be float32 (1, T, D) (one robot), "
                                   f"got {array.dtype} {array.shape}")
        actions[str(key)] = array[0]
    return actions


def _switch_off_clipping(upstream: Any) -> None:
    """The processor's clip_outliers flag, on the processor and its state/action processor (both read it)."""
    processor = getattr(upstream, "processor", None)
    for owner in (processor, getattr(processor, "state_action_processor", None)):
        if owner is not None and hasattr(owner, "clip_outliers"):
            owner.clip_outliers = False


def _converted(configs: dict[str, Any]) -> dict[str, ModalityConfig]:
    return {name: ModalityConfig.from_object(config) for name, config in configs.items()}
