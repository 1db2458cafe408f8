"""Check a graph before anything starts, and say everything that is wrong at once.

Checked: every executable is a known node; every parameter a node is given, explicitly or by a
params file, is one the node declares, with a value of the declared ROS type (ROS does not
convert: 100 is refused for a double, so write 100.0); every params file exists, is a ROS 2
params file, and each of its sections matches some node it is given to (a misspelt node name
would otherwise drop its settings silently); every emulated bus has a readable calibration and a
folder for its link. Value ranges are the nodes' business: they validate at start.
"""
from __future__ import annotations

import typing
from pathlib import Path
from typing import Any

from so101_bringup.catalog import node_type
from so101_bringup.graph_spec import Graph, NodeSpec, ParameterValue
from so101_bringup.param_files import ParamFile, ParamFileError, read_param_file
from so101_calibration import CalibrationError, read_calibration_file


class GraphError(ValueError):
    """The graph cannot start; the message lists every problem found, one per line."""

    def __init__(self, problems: list[str]):
        super().__init__("the node graph cannot start:\n  " + "\n  ".join(problems))
        self.problems = problems


def check_graph(graph: Graph) -> None:
    """Raise GraphError listing every problem; return quietly when the graph can start."""
    problems: list[str] = []
    files: dict[Path, ParamFile] = {}
    for path in dict.fromkeys(p for node in graph.nodes for p in node.param_files):
        try:
            files[path] = read_param_file(path)
        except ParamFileError as exc:
            problems.append(str(exc))
    for node in graph.nodes:
        problems.extend(_node_problems(node, files))
    for path, param_file in files.items():
        users = [node.fqn for node in graph.nodes if path in node.param_files]
        for section in param_file.sections:
            if not any(section.matches(fqn) for fqn in users):
                problems.append(
                    f"parameter file {path}: section {section.key} matches none of the nodes it is given to "
                    f"({', '.join(users)}); a misspelt node name?"
                )
    for tool in graph.tools:
        problems.extend(f"{tool.package}/{tool.executable} {tool.fqn}: file {path} does not exist"
                        for path in tool.files if not path.is_file())
    for emulator in graph.emulators:
        try:
            read_calibration_file(emulator.calibration)
        except CalibrationError as exc:
            problems.append(f"emulated {emulator.role} bus: calibration {exc}")
        if not emulator.link.parent.is_dir():
            problems.append(f"emulated {emulator.role} bus: folder {emulator.link.parent} for its link does not exist")
    if problems:
        raise GraphError(problems)


def _node_problems(node: NodeSpec, files: dict[Path, ParamFile]) -> list[str]:
    try:
        declared = node_type(node.package, node.executable).parameter_types()
    except KeyError as exc:
        return [f"node {node.fqn}: {exc.args[0]}"]
    problems = [
        f"node {node.fqn}: explicit parameter {problem}"
        for name, value in node.parameters.items()
        if (problem := _parameter_problem(name, value, declared))
    ]
    for path in node.param_files:
        for section in files[path].sections_for(node.fqn) if path in files else ():
            problems.extend(
                f"parameter file {path}: section {section.key} (node {node.fqn}): parameter {problem}"
                for name, value in section.parameters.items()
                if (problem := _parameter_problem(name, value, declared))
            )
    return problems


def _parameter_problem(name: str, value: ParameterValue, declared: dict[str, Any]) -> str | None:
    if name not in declared:
        return f"{name!r} is not declared by the node (its parameters: {', '.join(declared)})"
    hint = declared[name]
    if not _matches(value, hint):
        return f"{name!r} must be {_describe(hint)}, got {value!r}"
    return None


def _matches(value: object, hint: Any) -> bool:
    if typing.get_origin(hint) in (tuple, list):
        item = typing.get_args(hint)[0]
        return isinstance(value, (tuple, list)) and all(_matches(v, item) for v in value)
    if hint is int or hint is float:
        return isinstance(value, hint) and not isinstance(value, bool)
    return isinstance(value, hint)


_FLOAT_HINT = " (ROS does not convert: write 1.0, not 1)"
_KINDS = {bool: "bool", int: "integer", float: "float", str: "string"}


def _describe(hint: Any) -> str:
    if typing.get_origin(hint) in (tuple, list):
        item = typing.get_args(hint)[0]
        return f"a list of {_KINDS[item]}s" + (_FLOAT_HINT if item is float else "")
    return {bool: "true or false", int: "an integer", float: "a float" + _FLOAT_HINT, str: "a string"}[hint]
