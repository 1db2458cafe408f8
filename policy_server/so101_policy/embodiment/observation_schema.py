"""What a valid observation looks like for a data config in a generation (docs/reference/gr00t-wire.md §7).

N1.5 (flat, unbatched): "video.<camera>" uint8 (1, H, W, 3), "state.<group>" float (1, n),
the language key → [instruction]. N1.6+ (nested, B=1, T=1): video[camera] uint8
(1, 1, H, W, 3), state[group] float32 (1, 1, n) — float64 is rejected, as upstream's strict
check does — and language[key] → [[instruction]].

The observation builder's output and the replay backend's input check are both held to this,
so what the robot sends is exactly what a strict Isaac-GR00T server accepts. Beyond upstream's
checks, `check_values` (which the server runs on every get_action, whatever the backend) refuses
non-finite joint states and frames with no pixels: a model fed NaN answers NaN, and an empty
frame crashes preprocessing deep inside it.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from so101_policy.embodiment.data_config import DataConfig
from so101_policy.errors import ObservationError
from so101_policy.wire.generations import Protocol


def validate_observation(observation: Mapping[str, Any], config: DataConfig, protocol: Protocol) -> None:
    """ObservationError naming the first key that is missing or has the wrong type, dtype, shape or values."""
    if not isinstance(observation, Mapping):
        raise ObservationError(f"observation must be a map, got {type(observation).__name__}")
    if protocol.nested:
        _check_nested(observation, config)
    else:
        _check_flat(observation, config)
    check_values(observation, protocol)


def check_values(observation: Mapping[str, Any], protocol: Protocol) -> None:
    """ObservationError for a state array with NaN or inf, or a video array with no pixels (0 high or wide).

    Needs no data config: it looks at whatever state and video arrays the observation holds.
    """
    for key, value in _arrays(observation, "state", protocol):
        if np.issubdtype(value.dtype, np.number) and not np.all(np.isfinite(value)):
            raise ObservationError(f"state.{key} holds NaN or infinite values: {value.ravel()[:8].tolist()}")
    for key, value in _arrays(observation, "video", protocol):
        if value.ndim < 3 or value.shape[-3] == 0 or value.shape[-2] == 0:
            raise ObservationError(f"video.{key} has no pixels: shape {value.shape}")


def _arrays(observation: Mapping[str, Any], section: str, protocol: Protocol) -> list[tuple[str, np.ndarray]]:
    if protocol.nested:
        items = observation.get(section)
        items = items.items() if isinstance(items, Mapping) else ()
    else:
        prefix = f"{section}."
        items = [(key[len(prefix):], value) for key, value in observation.items()
                 if isinstance(key, str) and key.startswith(prefix)]
    return [(str(key), value) for key, value in items if isinstance(value, np.ndarray)]


def _check_flat(observation: Mapping[str, Any], config: DataConfig) -> None:
    for camera in config.cameras:
        _check_video(f"video.{camera}", _get(observation, f"video.{camera}"), ndim=4)
    for group in config.groups:
        key = f"state.{group.name}"
        state = _array(key, _get(observation, key))
        if not np.issubdtype(state.dtype, np.floating) or state.shape != (1, len(group.joints)):
            raise ObservationError(
                f"{key} must be a float array of shape (1, {len(group.joints)}), got {_describe(state)}"
            )
    language = _get(observation, config.language_key)
    if not (isinstance(language, list) and len(language) == 1 and isinstance(language[0], str)):
        raise ObservationError(
            f"{config.language_key} must be a list holding one instruction string, got {language!r:.100}"
        )


def _check_nested(observation: Mapping[str, Any], config: DataConfig) -> None:
    video = _section(observation, "video")
    state = _section(observation, "state")
    language = _section(observation, "language")
    for camera in config.cameras:
        _check_video(f"video.{camera}", _get(video, camera, "video"), ndim=5)
    for group in config.groups:
        array = _array(f"state.{group.name}", _get(state, group.name, "state"))
        if array.dtype != np.float32 or array.shape != (1, 1, len(group.joints)):
            raise ObservationError(
                f"state.{group.name} must be float32 of shape (1, 1, {len(group.joints)}), got {_describe(array)}"
            )
    text = _get(language, config.language_key, "language")
    if not (isinstance(text, list) and len(text) == 1 and isinstance(text[0], list) and len(text[0]) == 1
            and isinstance(text[0][0], str)):
        raise ObservationError(
            f"language.{config.language_key} must be [[instruction]] (batch 1, one step), got {text!r:.100}"
        )


def _check_video(key: str, value: Any, ndim: int) -> None:
    frames = _array(key, value)
    leading_ok = frames.shape[: ndim - 3] == (1,) * (ndim - 3)
    if frames.dtype != np.uint8 or frames.ndim != ndim or not leading_ok or frames.shape[-1] != 3:
        shape = ", ".join(["1"] * (ndim - 3) + ["H", "W", "3"])
        raise ObservationError(f"{key} must be uint8 RGB frames of shape ({shape}), got {_describe(frames)}")


def _section(observation: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    section = observation.get(name)
    if not isinstance(section, Mapping):
        raise ObservationError(
            f"observation must hold a '{name}' map (N1.6+ nested layout), got keys {sorted(map(str, observation))}"
        )
    return section


def _get(mapping: Mapping[str, Any], key: str, section: str | None = None) -> Any:
    if key not in mapping:
        where = f"observation['{section}']" if section else "observation"
        raise ObservationError(f"{where} lacks {key!r} (has {sorted(map(str, mapping))}): check the data config")
    return mapping[key]


def _array(key: str, value: Any) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise ObservationError(f"{key} must be a numpy array, got {type(value).__name__}")
    return value


def _describe(array: np.ndarray) -> str:
    return f"{array.dtype} {array.shape}"
