"""The repository keeps the shape docs/architecture.md §3 fixes: five ament_python packages, linked into ros2_ws."""
import ast
import xml.etree.ElementTree as ET

import pytest

from tests_support.repo import PACKAGES, REPO

ROS_DISTRIBUTIONS = ("rclpy", "ros-", "sensor_msgs", "std_msgs", "std_srvs", "diagnostic_msgs")


def top_level_imports(path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
    return names


@pytest.mark.parametrize("folder,package", PACKAGES.items())
def test_each_folder_is_an_ament_python_package(folder, package):
    root = REPO / folder
    xml = ET.parse(root / "package.xml").getroot()
    assert xml.findtext("name") == package
    assert xml.find("export/build_type").text == "ament_python"
    assert (root / "resource" / package).exists()
    assert (root / package / "__init__.py").exists()
    assert f"script_dir=$base/lib/{package}" in (root / "setup.cfg").read_text()
    assert (REPO / "ros2_ws/src" / package).resolve() == root.resolve()


@pytest.mark.parametrize("folder", PACKAGES)
def test_package_metadata_does_not_pip_require_ros(folder):
    tree = ast.parse((REPO / folder / "setup.py").read_text())
    requires = next(
        kw.value for node in ast.walk(tree) if isinstance(node, ast.Call)
        for kw in node.keywords if kw.arg == "install_requires"
    )
    names = [elt.value for elt in requires.elts]
    assert not [n for n in names if n.startswith(ROS_DISTRIBUTIONS)], names
