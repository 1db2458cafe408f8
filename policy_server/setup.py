"""so101_policy: an ament_python package that is also an ordinary pip distribution.

ROS 2 (rclpy, message packages) is deliberately not in install_requires: robot PCs get it
from their ROS installation, and the dev/CI set-up installs the PyPI ros-* wheels itself.
"""
from setuptools import find_packages, setup

PACKAGE = "so101_policy"

setup(
    name=PACKAGE,
    version="0.1.0",
    description="Isaac-GR00T wire codec, policy server and action-chunk streaming for SO-101.",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(exclude=["test", "tests"]),
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
    ],
    # pyzmq/msgpack/msgpack-numpy: the wire (msgpack-numpy >= 0.4.8 is what Isaac-GR00T N1.7 uses);
    # h5py/pyarrow: the replay backend's two dataset formats. No torch, no gr00t: the gr00t backend
    # imports Isaac-GR00T only where it is installed (GPU machine). No so101_hardware either: only
    # the inference node (so101_policy.nodes, robot PC) uses it, so package.xml declares it there.
    install_requires=[
        'so101_calibration',
        'numpy>=1.21',  # floors: what the code needs (Humble's numpy 1.21; README "Humble / Jazzy / Kilted")
        'pyzmq>=25.0',
        'msgpack>=1.0',
        'msgpack-numpy>=0.4.8',
        'h5py>=3.6',
        'pyarrow>=14.0',
    ],
    zip_safe=True,
    entry_points={
        "console_scripts": [
            "so101-policy-server = so101_policy.server.cli:main",
            "inference_node = so101_policy.nodes.inference_node:main",
        ],
    },
)
