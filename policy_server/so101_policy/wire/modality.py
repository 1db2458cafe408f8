"""ModalityConfig: what a policy observes and predicts, and its three wire forms (docs/reference/gr00t-wire.md §5).

The reply of `get_modality_config` is also the only side-effect-free way to tell the msgpack
generations apart (§6.3), so the decoding here is liberal (both markers; `as_json` as map, JSON
string or bytes) and `identify_protocol` reads the form back.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from so101_policy.errors import ProtocolMismatchError, WireFormatError
from so101_policy.wire.generations import Protocol

LEGACY_MARKER = "__ModalityConfig_class__"
"""E3 (JSON string) and E4 (map)."""
MARKER = "__ModalityConfig__"
"""E5: msgpack-numpy generation."""


@dataclass(frozen=True)
class ActionConfig:
    """How one action group is represented (N1.6+); enums travel by name, e.g. "RELATIVE"."""

    rep: str
    type: str
    format: str
    state_key: str | None = None


@dataclass(frozen=True)
class ModalityConfig:
    """One modality's keys and time offsets (delta_indices relative to the observation step)."""

    delta_indices: tuple[int, ...]
    modality_keys: tuple[str, ...]
    sin_cos_embedding_keys: tuple[str, ...] | None = None
    mean_std_embedding_keys: tuple[str, ...] | None = None
    action_configs: tuple[ActionConfig, ...] | None = None

    def to_wire(self, protocol: Protocol) -> dict[str, Any]:
        """The marker map `protocol`'s peers decode: N1.5 a two-field JSON string, N1.6+ a map."""
        if protocol is Protocol.N1_5:
            fields = {"delta_indices": list(self.delta_indices), "modality_keys": list(self.modality_keys)}
            return {LEGACY_MARKER: True, "as_json": json.dumps(fields, separators=(",", ":"))}
        marker = MARKER if protocol is Protocol.N1_7 else LEGACY_MARKER
        return {marker: True, "as_json": self._as_map()}

    @classmethod
    def from_wire(cls, obj: Any) -> ModalityConfig:
        """Any generation's marker map (or a bare field map) → ModalityConfig; WireFormatError otherwise."""
        fields = _fields_of(obj)
        try:
            return cls(
                delta_indices=tuple(int(i) for i in fields["delta_indices"]),
                modality_keys=tuple(str(k) for k in fields["modality_keys"]),
                sin_cos_embedding_keys=_optional_strings(fields.get("sin_cos_embedding_keys")),
                mean_std_embedding_keys=_optional_strings(fields.get("mean_std_embedding_keys")),
                action_configs=_optional_action_configs(fields.get("action_configs")),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise WireFormatError(f"malformed ModalityConfig {fields!r}: {exc}") from None

    @classmethod
    def from_object(cls, obj: Any) -> ModalityConfig:
        """Isaac-GR00T's own ModalityConfig (pydantic in N1.5, dataclass in N1.6+) read by attribute."""
        configs = getattr(obj, "action_configs", None)
        return cls.from_wire(
            {
                "delta_indices": list(obj.delta_indices),
                "modality_keys": list(obj.modality_keys),
                "sin_cos_embedding_keys": getattr(obj, "sin_cos_embedding_keys", None),
                "mean_std_embedding_keys": getattr(obj, "mean_std_embedding_keys", None),
                "action_configs": None if configs is None else [_action_config_fields(c) for c in configs],
            }
        )

    def _as_map(self) -> dict[str, Any]:
        def strings(values: tuple[str, ...] | None) -> list[str] | None:
            return None if values is None else list(values)

        return {
            "delta_indices": list(self.delta_indices),
            "modality_keys": list(self.modality_keys),
            "sin_cos_embedding_keys": strings(self.sin_cos_embedding_keys),
            "mean_std_embedding_keys": strings(self.mean_std_embedding_keys),
            "action_configs": None
            if self.action_configs is None
            else [
                {"rep": c.rep, "type": c.type, "format": c.format, "state_key": c.state_key}
                for c in self.action_configs
            ],
        }


def modality_configs_to_wire(configs: Mapping[str, ModalityConfig], protocol: Protocol) -> dict[str, Any]:
    return {name: config.to_wire(protocol) for name, config in configs.items()}


def modality_configs_from_wire(reply: Any) -> dict[str, ModalityConfig]:
    """A `get_modality_config` reply → {modality: ModalityConfig}."""
    if not isinstance(reply, Mapping):
        raise WireFormatError(f"get_modality_config reply must be a map, got {type(reply).__name__}")
    return {str(name): ModalityConfig.from_wire(value) for name, value in reply.items()}


def identify_protocol(reply: Any) -> Protocol:
    """The generation whose ModalityConfig form `reply` (a decoded get_modality_config reply) uses (§6.3).

    ProtocolMismatchError when the reply carries no marker (e.g. a policy without modality
    configs answers {}): the generation must then be configured explicitly.
    """
    values = list(reply.values()) if isinstance(reply, Mapping) else []
    for value in values:
        if isinstance(value, Mapping) and value.get(MARKER) is True:
            return Protocol.N1_7
        if isinstance(value, Mapping) and value.get(LEGACY_MARKER) is True:
            return Protocol.N1_6 if isinstance(value.get("as_json"), Mapping) else Protocol.N1_5
    raise ProtocolMismatchError(
        f"cannot identify the server's GR00T generation: its get_modality_config reply has no ModalityConfig "
        f"marker ({reply!r:.200}). Pass protocol='n1.5', 'n1.6' or 'n1.7' explicitly."
    )


def _fields_of(obj: Any) -> Mapping[str, Any]:
    if not isinstance(obj, Mapping):
        raise WireFormatError(f"ModalityConfig must be a map, got {type(obj).__name__}")
    if not (obj.get(MARKER) is True or obj.get(LEGACY_MARKER) is True):
        return obj
    as_json = obj.get("as_json")
    if isinstance(as_json, (bytes, bytearray)):
        as_json = as_json.decode("utf-8", errors="replace")
    if isinstance(as_json, str):
        try:
            as_json = json.loads(as_json)
        except json.JSONDecodeError as exc:
            raise WireFormatError(f"ModalityConfig as_json is not JSON: {exc}") from None
    if not isinstance(as_json, Mapping):
        raise WireFormatError(f"ModalityConfig as_json must be a map or JSON text, got {type(as_json).__name__}")
    return as_json


def _optional_strings(values: Sequence[Any] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(str(v) for v in values)


def _optional_action_configs(values: Sequence[Mapping[str, Any]] | None) -> tuple[ActionConfig, ...] | None:
    if values is None:
        return None
    return tuple(
        ActionConfig(
            rep=str(v["rep"]), type=str(v["type"]), format=str(v["format"]), state_key=v.get("state_key")
        )
        for v in values
    )


def _action_config_fields(config: Any) -> dict[str, Any]:
    """Isaac-GR00T's ActionConfig (enum fields) → wire map, enums by name as upstream sends them."""

    def name(value: Any) -> str:
        return str(getattr(value, "name", value))

    return {
        "rep": name(config.rep),
        "type": name(config.type),
        "format": name(config.format),
        "state_key": getattr(config, "state_key", None),
    }
