"""The layers of docs/architecture.md §2, checked from the imports themselves.

1. pure libraries: no ROS import (rclpy or a message package) anywhere in them;
2. the ROS toolkit (so101_hardware.ros) below every node: it imports no node;
   nodes: no node module imports another node module, and no package reaches into another's nodes;
3. bringup: graph data and checks build and check every graph without importing ROS.
Package dependencies point one way: calibration ← hardware ← sim_bridge; calibration ← policy;
everything ← bringup; the policy server imports without ROS and without the hardware stack.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from so101_bringup.catalog import NODE_TYPES
from tests_support.repo import PACKAGES, REPO

ROS_MODULES = frozenset({
    "rclpy", "rcl_interfaces", "builtin_interfaces", "sensor_msgs", "std_msgs", "std_srvs", "diagnostic_msgs",
    "trajectory_msgs", "geometry_msgs", "launch", "launch_ros",
})
TOOLKIT = "so101_hardware.ros"
BRINGUP_ROS_SIDE = frozenset({
    "so101_bringup.runner", "so101_bringup.status", "so101_bringup.launch_actions", "so101_bringup.demo.monitor",
    "so101_bringup.demo.run",
})
"""Bringup modules that run ROS themselves (the in-process runner, `so101 status`, the demo) or build
`ros2 launch` actions; every other bringup module is graph data, arguments, checks or plain tooling."""
NODE_MODULES = frozenset(node_type.main.partition(":")[0] for node_type in NODE_TYPES.values())
DEPENDENCIES = {
    "so101_calibration": set(),
    "so101_hardware": {"so101_calibration"},
    "so101_policy": {"so101_calibration"},
    "so101_sim_bridge": {"so101_calibration", "so101_hardware"},
    "so101_bringup": set(PACKAGES.values()) - {"so101_bringup"},
}


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    imports: frozenset[str]
    """Every module it imports, anywhere in the file (function-level imports included), as dotted names."""

    @property
    def package(self) -> str:
        return self.name.partition(".")[0]

    def under(self, prefix: str) -> bool:
        return self.name == prefix or self.name.startswith(prefix + ".")

    @property
    def in_nodes(self) -> bool:
        return ".nodes." in self.name + "." and not self.name.endswith(".nodes")


def _imports(path: Path) -> frozenset[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return frozenset(names)


def modules() -> Iterator[Module]:
    for folder, package in PACKAGES.items():
        root = REPO / folder
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            yield Module(name, path, _imports(path))


MODULES = tuple(modules())


def _top(name: str) -> str:
    return name.partition(".")[0]


def test_the_module_list_is_real():
    names = {module.name for module in MODULES}
    assert TOOLKIT in names and NODE_MODULES <= names and BRINGUP_ROS_SIDE <= names


@pytest.mark.parametrize("module", [m for m in MODULES if not (m.under(TOOLKIT) or m.in_nodes
                                                               or m.name in BRINGUP_ROS_SIDE)], ids=lambda m: m.name)
def test_pure_libraries_import_no_ros(module: Module):
    ros = {name for name in module.imports if _top(name) in ROS_MODULES}
    assert not ros, f"{module.name} (a pure library) imports {sorted(ros)}"


def test_the_toolkit_imports_no_node_and_no_package_above_it():
    for module in MODULES:
        if module.under(TOOLKIT):
            above = {name for name in module.imports if _top(name) in ("so101_sim_bridge", "so101_policy",
                                                                         "so101_bringup") or ".nodes" in name}
            assert not above, f"the toolkit module {module.name} imports {sorted(above)}"


def test_no_node_imports_another_node_and_no_package_reaches_into_anothers_nodes():
    for module in MODULES:
        for name in module.imports:
            if name in NODE_MODULES or any(name.startswith(node + ".") for node in NODE_MODULES):
                pytest.fail(f"{module.name} imports the node module {name}: share code through {TOOLKIT} instead")
            if ".nodes." in name + "." and (_top(name) != module.package or not module.in_nodes):
                pytest.fail(f"{module.name} imports {name} from another package's (or from inside its own) nodes")


def test_nodes_use_the_ros_side_of_other_packages_only_through_the_toolkit():
    """so101_policy's and so101_bringup's nodes may use so101_hardware's toolkit (and its metrics), nothing else."""
    allowed = (TOOLKIT, "so101_hardware.metrics")
    for module in MODULES:
        if module.in_nodes and module.package in ("so101_policy", "so101_bringup", "so101_sim_bridge"):
            hardware = {n for n in module.imports if _top(n) == "so101_hardware"}
            outside = {n for n in hardware if not any(n == a or n.startswith(a + ".") for a in allowed)}
            if module.package != "so101_sim_bridge":  # sim_bridge depends on so101_hardware anyway
                assert not outside, f"{module.name} imports {sorted(outside)} from so101_hardware"


def test_dependencies_point_one_way():
    """calibration ← hardware ← sim_bridge; calibration ← policy; everything ← bringup; no cycles.

    so101_policy's nodes/ may use the ROS toolkit in so101_hardware; nothing else in so101_policy
    may, because the policy server must install on a GPU machine without the hardware stack.
    """
    for module in MODULES:
        permitted = DEPENDENCIES[module.package] | ({"so101_hardware"} if module.in_nodes else set())
        ours = {_top(name) for name in module.imports if _top(name) in DEPENDENCIES} - {module.package}
        assert ours <= permitted, f"{module.name} imports {sorted(ours - permitted)}"


def run_isolated(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_every_graph_is_built_and_checked_without_importing_ros(tmp_path):
    code = f"""
import sys
from so101_bringup.arguments import argument_specs, parse_arguments
from so101_bringup.graph_checks import check_graph
from so101_bringup.launch_graphs import GRAPHS, build_graph
for name, (args_class, _build) in GRAPHS.items():
    texts = {{"emulate": "true", "emulator_dir": {str(tmp_path)!r}, "rerun": "true"}}
    known = {{spec.name for spec in argument_specs(args_class)}}
    check_graph(build_graph(name, parse_arguments(args_class, {{k: v for k, v in texts.items() if k in known}})))
ros = sorted(m for m in sys.modules if m.partition(".")[0] in {sorted(ROS_MODULES)!r})
assert not ros, ros
print("ok")
"""
    result = run_isolated(code)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


BLOCKED = ("rclpy", "sensor_msgs", "std_msgs", "so101_hardware", "so101_sim_bridge", "so101_bringup")


def test_the_policy_server_imports_without_ros_or_the_hardware_stack():
    """What a GPU machine installs (`pip install ./calibration ./policy_server`) is all the server needs."""
    code = f"""
import importlib.abc, sys
class Blocked(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {BLOCKED!r}:
            raise ImportError(f"{{name}} is not installed on this machine")
sys.meta_path.insert(0, Blocked())
import so101_policy, so101_policy.server.cli, so101_policy.server.backends.replay, so101_policy.streaming
import so101_policy.inference
print("ok")
"""
    result = run_isolated(code)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
