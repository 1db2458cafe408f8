"""Every executable a graph may name exists: as its package's console script, importable, with its node class."""
import ast
import dataclasses
import importlib.util

import pytest
from rclpy.node import Node

from so101_bringup.catalog import NODE_TYPES, load_attribute, node_type
from tests_support.repo import PACKAGES, REPO

OPTIONAL_LIBRARIES = {"rerun_node": "rerun"}
"""Nodes whose library is an optional extra (rerun-sdk: setup.py extras_require), skipped where it is missing."""


def loadable(node_type_) -> bool:
    library = OPTIONAL_LIBRARIES.get(node_type_.executable)
    return library is None or importlib.util.find_spec(library) is not None


def node_types():
    return [pytest.param(t, id=t.executable, marks=pytest.mark.skipif(not loadable(t), reason="optional extra"))
            for t in NODE_TYPES.values()]


def console_scripts(folder: str) -> dict[str, str]:
    """name → "module:function" from a package's setup.py, read without running it."""
    tree = ast.parse((REPO / folder / "setup.py").read_text())
    entry_points = next(
        kw.value
        for node in ast.walk(tree) if isinstance(node, ast.Call)
        for kw in node.keywords if kw.arg == "entry_points"
    )
    scripts = ast.literal_eval(entry_points)["console_scripts"]
    return dict(tuple(part.strip() for part in line.split("=")) for line in scripts)


@pytest.mark.parametrize("node_type_", node_types())
def test_each_executable_is_a_console_script_of_its_package(node_type_):
    (folder,) = [folder for folder, package in PACKAGES.items() if package == node_type_.package]
    assert console_scripts(folder).get(node_type_.executable) == node_type_.main
    assert callable(load_attribute(node_type_.main))


@pytest.mark.parametrize("node_type_", node_types())
def test_each_node_class_is_an_rclpy_node_whose_parameters_are_its_config_fields(node_type_):
    assert issubclass(node_type_.load_node_class(), Node)
    config_class = load_attribute(node_type_.config_class)
    assert dataclasses.is_dataclass(config_class)
    assert list(node_type_.parameter_types()) == [field.name for field in dataclasses.fields(config_class)]


def test_an_unknown_executable_names_the_known_ones():
    with pytest.raises(KeyError, match="so101_hardware/follower_node"):
        node_type("so101_hardware", "folower_node")
