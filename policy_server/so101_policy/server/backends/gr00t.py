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
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from so101_policy.errors import BackendUnavailableError
from so101_policy.wire.generations import Protocol
from so101_policy.wire.modality import ModalityConfig

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


def _converted(configs: dict[str, Any]) -> dict[str, ModalityConfig]:
    return {name: ModalityConfig.from_object(config) for name, config in configs.items()}
