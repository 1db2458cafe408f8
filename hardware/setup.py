"""so101_hardware: an ament_python package that is also an ordinary pip distribution.

ROS 2 (rclpy, message packages) is deliberately not in install_requires: robot PCs get it
from their ROS installation, and the dev/CI set-up installs the PyPI ros-* wheels itself.
"""
from setuptools import find_packages, setup

PACKAGE = "so101_hardware"

setup(
    name=PACKAGE,
    version="0.1.0",
    description="Feetech STS3215 servo bus driver, bus emulator, cameras, SO-101 arm abstraction and hardware tools.",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(exclude=["test", "tests"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    # Floors: what the code needs (Humble ships numpy 1.21 and OpenCV 4.5; README "Humble / Jazzy / Kilted").
    install_requires=['so101_calibration', 'pyserial>=3.5', 'numpy>=1.21', 'opencv-python-headless>=4.5'],
    zip_safe=True,
    entry_points={
        "console_scripts": [
            "so101-bus-emulator = so101_hardware.emulator.cli:main",
            "so101-scan = so101_hardware.tools.scan:main",
            "so101-find-port = so101_hardware.tools.find_port:main",
            "so101-setup-motors = so101_hardware.tools.setup_motors:main",
            "so101-udev-rules = so101_hardware.tools.udev_rules:main",
            "so101-calibrate = so101_hardware.tools.calibrate:main",
            "leader_node = so101_hardware.nodes.leader_node:main",
            "follower_node = so101_hardware.nodes.follower_node:main",
            "teleop_node = so101_hardware.nodes.teleop_node:main",
            "command_mux_node = so101_hardware.nodes.command_mux_node:main",
            "camera_node = so101_hardware.nodes.camera_node:main",
        ],
    },
)
