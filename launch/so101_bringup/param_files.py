"""ROS 2 parameter files (`<node>: {ros__parameters: {...}}`), read the way rcl reads them.

The runner applies param files itself (there is no `ros2 launch` to do it), so the rules must be
rcl's, or a file would mean one thing under `ros2 launch` and another in the runner:

- a node key is a fully qualified name (`/arm1/follower`), a name relative to the root
  namespace (`follower` = `/follower`), or contains wildcards: `*` is one name token and `**`
  any number of them (`/**` is every node, `/**/follower` a follower in any namespace);
- keys may nest (`arm1: {follower: {ros__parameters: ...}}` is `/arm1/follower`), and so may
  parameters (`limits: {max: 1.0}` is the parameter `limits.max`);
- every section matching a node applies, in file order, later values winning;
- values are typed as rcl types them: a plain scalar that reads as a number with an exponent
  (1e3, 1.0e3, -2.5E-1) is a double, where PyYAML's YAML 1.1 rules would make it a string.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from so101_bringup.graph_spec import NodeSpec, ParameterValue, frozen_parameters

PARAMETERS_KEY = "ros__parameters"


class _RclLoader(yaml.SafeLoader):
    """PyYAML's safe loader, plus the floats rcl reads with strtod that YAML 1.1 does not (1e3, 1.0e3)."""


_RclLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)


def load_yaml(text: str) -> Any:
    """YAML text → values, typed as rcl types parameter values (yaml.YAMLError if malformed)."""
    return yaml.load(text, Loader=_RclLoader)  # noqa: S506 - a SafeLoader subclass


class ParamFileError(ValueError):
    """A parameter file is missing or not a ROS 2 parameter file; the message names the file."""


@dataclass(frozen=True)
class Section:
    """One `<node key>: {ros__parameters: ...}` entry."""

    key: str  # as normalised: always starting with "/"
    parameters: Mapping[str, ParameterValue]

    def matches(self, fqn: str) -> bool:
        return _key_pattern(self.key).fullmatch(fqn) is not None

    @property
    def node_name(self) -> str:
        """The key's last token: a node name, or a wildcard."""
        return self.key.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class ParamFile:
    path: Path
    sections: tuple[Section, ...]

    def sections_for(self, fqn: str) -> tuple[Section, ...]:
        return tuple(section for section in self.sections if section.matches(fqn))

    def parameters_for(self, fqn: str) -> dict[str, ParameterValue]:
        """What this file sets on the node `fqn`."""
        merged: dict[str, ParameterValue] = {}
        for section in self.sections_for(fqn):
            merged.update(section.parameters)
        return merged


def read_param_file(path: Path) -> ParamFile:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ParamFileError(f"parameter file {path}: cannot be read: {exc.strerror or exc}") from None
    try:
        content = load_yaml(text)
    except yaml.YAMLError as exc:
        raise ParamFileError(f"parameter file {path}: not valid YAML: {exc}") from None
    if not isinstance(content, dict) or not content:
        raise ParamFileError(f"parameter file {path}: expected `<node name>: {{{PARAMETERS_KEY}: ...}}` entries")
    return ParamFile(path, tuple(_sections(path, content, prefix="")))


def effective_parameters(node: NodeSpec) -> dict[str, ParameterValue]:
    """What a node is given: its params files' matching sections in order, then its explicit values."""
    parameters: dict[str, ParameterValue] = {}
    for path in node.param_files:
        parameters.update(read_param_file(path).parameters_for(node.fqn))
    parameters.update(node.parameters)
    return parameters


def _sections(path: Path, content: Mapping[Any, Any], prefix: str) -> list[Section]:
    sections: list[Section] = []
    for key, value in content.items():
        node_key = f"{prefix}/{str(key).strip('/')}"
        if not isinstance(value, dict):
            raise ParamFileError(
                f"parameter file {path}: {node_key} must hold `{PARAMETERS_KEY}:` (or nested node names), got {value!r}"
            )
        if PARAMETERS_KEY in value:
            extra = sorted(str(k) for k in value if k != PARAMETERS_KEY)
            if extra:
                raise ParamFileError(
                    f"parameter file {path}: {node_key}: unexpected key(s) {', '.join(extra)} beside {PARAMETERS_KEY}"
                )
            parameters = value[PARAMETERS_KEY] or {}
            if not isinstance(parameters, dict):
                raise ParamFileError(f"parameter file {path}: {node_key}: {PARAMETERS_KEY} must be a mapping")
            sections.append(Section(node_key, frozen_parameters(_flatten(parameters, ""))))
        else:
            sections.extend(_sections(path, value, node_key))
    return sections


def _flatten(parameters: Mapping[Any, Any], prefix: str) -> dict[str, object]:
    flat: dict[str, object] = {}
    for name, value in parameters.items():
        full = f"{prefix}{name}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{full}."))
        else:
            flat[full] = value
    return flat


@functools.lru_cache(maxsize=None)
def _key_pattern(key: str) -> re.Pattern[str]:
    tokens = key.strip("/").split("/")
    parts = {"**": r"(?:/[^/]+)*", "*": r"/[^/]+"}
    return re.compile("".join(parts.get(token, "/" + re.escape(token)) for token in tokens))
