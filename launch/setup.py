"""so101_bringup: an ament_python package that is also an ordinary pip distribution.

ROS 2 (rclpy, message packages) is deliberately not in install_requires: robot PCs get it
from their ROS installation, and the dev/CI set-up installs the PyPI ros-* wheels itself.

data_files put the launch files and configs where `ros2 launch` and so101_bringup.share find
them: share/so101_bringup/{launch,config,config/calibration} (config: the params YAML files and the RViz config).
"""
from glob import glob

from setuptools import find_packages, setup

PACKAGE = "so101_bringup"
SHARE = f"share/{PACKAGE}"

setup(
    name=PACKAGE,
    version="0.1.0",
    description="Launch files, parameters, the in-process graph runner and the one-command demo for the SO-101 stack.",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(exclude=["test", "tests"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (SHARE, ["package.xml"]),
        (f"{SHARE}/launch", sorted(glob("launch/*.launch.py"))),
        (f"{SHARE}/config", sorted(glob("config/*.yaml")) + sorted(glob("config/*.rviz"))),
        (f"{SHARE}/config/calibration", sorted(glob("config/calibration/*.json"))),
    ],
    # Floors: what the code needs (Humble's numpy 1.21, PyYAML 5.4, rich 11, matplotlib 3.5, h5py 3.6),
    # so pip never replaces a robot PC's system packages (README "Humble / Jazzy / Kilted").
    install_requires=[
        'so101_hardware', 'so101_calibration', 'so101_sim_bridge', 'so101_policy', 'pyyaml>=5.4',
        # The `so101` command's tables and live status.
        'rich>=11',
        # `so101 demo`: its report's plots, and counting the demos in the HDF5 file it recorded.
        'matplotlib>=3.5,<4', 'h5py>=3.6', 'numpy>=1.21',
    ],
    extras_require={
        # The rerun node's viewer (rerun:=true): rerun-sdk 0.24+ needs numpy 2, so it is optional; the
        # range is LeRobot 0.4.4's, so both install together. On Humble install it into a venv of its
        # own (README "Humble / Jazzy / Kilted"), never over the system numpy.
        'rerun': ['rerun-sdk>=0.24,<0.27'],
    },
    zip_safe=True,
    entry_points={
        "console_scripts": [
            "so101 = so101_bringup.cli:main",
            "rerun_node = so101_bringup.nodes.rerun_node:main",
        ],
    },
)
