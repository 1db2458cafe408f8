"""so101_calibration: an ament_python package that is also an ordinary pip distribution.

ROS 2 (rclpy, message packages) is deliberately not in install_requires: robot PCs get it
from their ROS installation, and the dev/CI set-up installs the PyPI ros-* wheels itself.
"""
from setuptools import find_packages, setup

PACKAGE = "so101_calibration"

setup(
    name=PACKAGE,
    version="0.1.0",
    description="SO-101 joint names, LeRobot-compatible calibration files and joint-unit conversions.",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(exclude=["test", "tests"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    # Floors are what the code needs, no higher: a robot PC's ROS (Humble: numpy 1.21, PyYAML 5.4) keeps its
    # own system packages, which pip would otherwise replace (README "Humble / Jazzy / Kilted").
    install_requires=['numpy>=1.21', 'pyyaml>=5.4'],
    zip_safe=True,
    entry_points={
        "console_scripts": [
        ],
    },
)
