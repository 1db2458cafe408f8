"""The fields only a person can supply (operator, consent, licence, asset review, allowed use), read from one YAML.

Every dataset the stack writes records them; the recorder node and every tool read the same
file, so they are configured once:

1. the file given explicitly (the recorder's `provenance_file` parameter, `--provenance FILE`);
2. else the file named by the environment variable SO101_PROVENANCE;
3. else ~/.config/so101/provenance.yaml (or $XDG_CONFIG_HOME/so101/provenance.yaml) if it exists;
4. else the defaults: "unknown", and "not reviewed" for the asset review. Nothing is ever guessed.

A file named in 1 or 2 must exist: a typo must not silently record "unknown". Format::

    operator: op-017                      # who teleoperated (an id is enough)
    consent: consent-forms/2025-03-op-017 # where the operator's consent is recorded
    license: cc-by-4.0                    # the dataset's licence (a Hugging Face licence id for the card)
    asset_review: reviewed 2025-03-02 by legal (scene and robot assets)
    allowed_use: research and internal fine-tuning only
    isaac_sim:                            # optional: recorded when the simulator is Isaac Sim
      version: "5.0"
      scene_usd: omniverse://server/scenes/kitchen.usd
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from so101_sim_bridge.provenance.errors import ProvenanceError

ENVIRONMENT_VARIABLE = "SO101_PROVENANCE"
CONFIG_RELATIVE = Path("so101") / "provenance.yaml"
UNKNOWN = "unknown"
NOT_REVIEWED = "not reviewed"
DEFAULTS_SOURCE = "defaults (no provenance file)"


@dataclass(frozen=True)
class UserFields:
    operator: str = UNKNOWN
    """Who teleoperated the demos (or ran the tool)."""
    consent: str = UNKNOWN
    """A reference to the operator's consent record."""
    license: str = UNKNOWN
    """The dataset's licence; on the card's `license:` line (Hugging Face accepts `unknown`)."""
    asset_review: str = NOT_REVIEWED
    """Whether the scene and robot assets' licences were reviewed, by whom, when."""
    allowed_use: str = UNKNOWN
    """What the data may be used for downstream."""
    isaac_sim: Mapping[str, str] = field(default_factory=dict)
    """Isaac Sim version and USD names, recorded when the recording's simulator is Isaac Sim."""
    source: str = DEFAULTS_SOURCE
    """Where the fields were read from."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "isaac_sim", MappingProxyType(dict(self.isaac_sim)))

    def to_json(self) -> dict[str, Any]:
        """The reviewer's fields as a manifest holds them (isaac_sim goes to the simulator entry)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "isaac_sim"}


def default_config_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / CONFIG_RELATIVE


def load_user_fields(path: str | Path | None = None) -> UserFields:
    """The user fields from `path`, the environment's file or the default file, else the defaults (module doc)."""
    if path:
        return _read(Path(path), "given")
    named = os.environ.get(ENVIRONMENT_VARIABLE)
    if named:
        return _read(Path(named), f"named by {ENVIRONMENT_VARIABLE}")
    default = default_config_file()
    return _read(default, "default") if default.is_file() else UserFields()


def _read(path: Path, how: str) -> UserFields:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProvenanceError(f"provenance file {path} ({how}) does not exist; create it (README \"Provenance\") "
                              "or leave it out to record 'unknown'") from None
    except (OSError, yaml.YAMLError) as exc:
        raise ProvenanceError(f"provenance file {path}: cannot read it ({exc})") from None
    if loaded is None:
        loaded = {}
    if not isinstance(loaded, dict):
        raise ProvenanceError(f"provenance file {path}: expected a mapping of fields, got {type(loaded).__name__}")
    known = {f.name for f in fields(UserFields)} - {"source"}
    unknown = set(loaded) - known
    if unknown:
        raise ProvenanceError(f"provenance file {path}: unknown field(s) {sorted(unknown)}; fields are {sorted(known)}")
    values: dict[str, Any] = {}
    for name, value in loaded.items():
        if name == "isaac_sim":
            if not isinstance(value, dict):
                raise ProvenanceError(f"provenance file {path}: isaac_sim is a mapping of names, e.g. scene_usd: ...")
            values[name] = {str(k): str(v) for k, v in value.items()}
        elif value is None or isinstance(value, (dict, list)) or str(value).strip() == "":
            raise ProvenanceError(f"provenance file {path}: {name} must be a non-empty text (leave the field out "
                                  "to record its default)")
        else:
            values[name] = str(value)
    return UserFields(**values, source=str(path.resolve()))
