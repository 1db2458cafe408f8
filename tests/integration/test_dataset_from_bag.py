"""A rosbag2 of a real run becomes HDF5 + LeRobot v3 (so101-dataset from-bag).

The twin graph runs on emulated arms with teleop engaged (the emulated operator's hand moves the
leader); a bag writer, standing in for `ros2 bag record` (ros2cli is not installable here), takes
the serialized messages of the live topics (rclpy raw subscriptions) and writes them with the
rosbags library, in both storage formats rosbag2 has (MCAP and sqlite3). The converter then gets
the recorder.yaml the live recorder uses.
"""
from __future__ import annotations

import time

import h5py
import numpy as np
import pytest
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys import Stores, get_typestore
from std_srvs.srv import SetBool

from so101_bringup.arguments import TwinArgs
from so101_bringup.launch_graphs import teleop_graph, with_simulator
from so101_bringup.runner import GraphRunner
from so101_bringup.share import config_path
from so101_calibration.interface_contract import (
    FOLLOWER_JOINT_COMMANDS,
    FOLLOWER_JOINT_STATES,
    RECORDED_IMAGES_QOS,
    RECORDED_SAMPLES_QOS,
    SIM_CAMERA_IMAGE,
    SIM_JOINT_STATES,
    SIM_OBJECT_POSE,
    TELEOP_ENGAGE,
    Topic,
)
from so101_hardware.ros.endpoints import client, interface_class
from so101_hardware.ros.qos import qos_profile
from so101_sim_bridge.datasets import validate
from so101_sim_bridge.datasets.cli import main
from so101_sim_bridge.provenance import verify_chain
from tests_support.ros import domain_for_this_process, spin_until

TIMEOUT_S = 60.0
RECORD_S = 6.0
OBJECTS = ("red_cube", "blue_block", "green_cylinder")
TOPICS = {
    FOLLOWER_JOINT_STATES.name: FOLLOWER_JOINT_STATES, FOLLOWER_JOINT_COMMANDS.name: FOLLOWER_JOINT_COMMANDS,
    SIM_JOINT_STATES.name: SIM_JOINT_STATES, SIM_CAMERA_IMAGE.format(name="wrist"): SIM_CAMERA_IMAGE,
    **{SIM_OBJECT_POSE.format(name=name): SIM_OBJECT_POSE for name in OBJECTS},
}


class BagRecorder:
    """`ros2 bag record` of TOPICS into one bag per storage format: serialized messages, receive times."""

    def __init__(self, context, folder):
        self.node = Node("bag_recorder", context=context)
        self.executor = SingleThreadedExecutor(context=context)
        self.executor.add_node(self.node)
        typestore = get_typestore(Stores.ROS2_JAZZY)
        self.writers = {storage: Writer(folder / f"bag_{storage.name.lower()}", version=9, storage_plugin=storage)
                        for storage in (StoragePlugin.MCAP, StoragePlugin.SQLITE3)}
        self.connections = {}
        self.counts = {topic: 0 for topic in TOPICS}
        for writer in self.writers.values():
            writer.open()
        for name, topic in TOPICS.items():
            for storage, writer in self.writers.items():
                self.connections[storage, name] = writer.add_connection(
                    self._absolute(name), topic.type, typestore=typestore)
            qos = RECORDED_IMAGES_QOS if topic is SIM_CAMERA_IMAGE else RECORDED_SAMPLES_QOS
            self.node.create_subscription(interface_class(topic.type), name,
                                          lambda raw, n=name: self._write(n, raw), qos_profile(qos), raw=True)
        self.recording = False

    @staticmethod
    def _absolute(name: str) -> str:
        return name if name.startswith("/") else "/" + name

    def _write(self, name: str, raw: bytes) -> None:
        if self.recording:
            for storage, writer in self.writers.items():
                writer.write(self.connections[storage, name], time.time_ns(), raw)
            self.counts[name] += 1

    def spin_for(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        spin_until(self.executor, lambda: time.monotonic() >= deadline, seconds + 1.0)  # recording is the point

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()
        self.executor.shutdown()
        self.node.destroy_node()


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_a_bag_of_a_real_run_converts_to_hdf5_and_lerobot(tmp_path):
    (tmp_path / "buses").mkdir()
    args = TwinArgs(emulate=True, emulator_dir=str(tmp_path / "buses"), uart_timing=False)
    graph = with_simulator(teleop_graph(args), args).with_parameters([
        ("mujoco_twin", "cameras", ("wrist",)), ("mujoco_twin", "camera_rate_hz", 5.0)])
    with GraphRunner(graph, domain_id=domain_for_this_process()) as running:
        bag = BagRecorder(running.context, tmp_path)
        engage = client(bag.node, TELEOP_ENGAGE)
        assert engage.wait_for_service(timeout_sec=TIMEOUT_S)
        future = engage.call_async(SetBool.Request(data=True))
        assert spin_until(bag.executor, future.done, TIMEOUT_S) and future.result().success
        bag.spin_for(1.0)  # discovery of every publisher
        bag.recording = True
        bag.spin_for(RECORD_S)
        bag.close()
    assert all(count > 0 for count in bag.counts.values()), bag.counts

    recorder_yaml = config_path("recorder.yaml")
    calibration = ["--set", "arm_id=emulated_follower", "--set", f"calibration={config_path('calibration')}"]
    results = {}
    for storage in ("mcap", "sqlite3"):
        out = tmp_path / f"from_{storage}"
        assert main(["from-bag", str(tmp_path / f"bag_{storage}"), str(out), "--config", str(recorder_yaml),
                     "--set", "cameras=[wrist=/sim/cameras/wrist/image_raw]", *calibration]) == 0
        hdf5, lerobot = out / "so101_demos.hdf5", out / "so101_lerobot"
        assert validate(hdf5, "isaaclab").ok and validate(lerobot, "lerobot").ok
        with h5py.File(hdf5) as f:
            demo = f["data/demo_0"]
            rows = len(demo["actions"])
            results[storage] = rows
            # At most a step per camera frame (5 fps); on a loaded machine the twin's states can leave
            # steps without a joint state within 20 ms, which the recorder drops as it does live.
            assert 3 <= rows < bag.counts[SIM_CAMERA_IMAGE.format(name="wrist")]
            assert demo["states/rigid_object/red_cube/root_pose"].shape == (rows, 7)
            assert demo["obs/wrist"].shape[1:] == (240, 320, 3)
            assert demo["obs/datagen_info/eef_pose/so101_follower"].shape == (rows, 4, 4)
            assert abs(demo["actions"][()]).max() > 0.05, "the teleop commands, not zeros"
        # Both outputs are conversions of the bag, an unknown source (ros2 bag writes no manifest), verified.
        for dataset in (hdf5, lerobot):
            report = verify_chain(dataset, show_progress=False)
            assert report.ok, report.problems
            assert (report.root.manifest.kind, report.root.manifest.tool) == ("conversion", "so101-dataset from-bag")
            (bag_node,) = report.root.children
            assert bag_node.manifest is None and bag_node.status == "verified" and bag_node.format == "rosbag2"
    assert results["mcap"] == results["sqlite3"], "both storage formats give the same dataset"


def test_a_bag_without_the_recorders_topics_is_refused_naming_them(tmp_path, capsys):
    typestore = get_typestore(Stores.ROS2_JAZZY)
    writer = Writer(tmp_path / "bag", version=9, storage_plugin=StoragePlugin.MCAP)
    writer.open()
    topic: Topic = FOLLOWER_JOINT_STATES
    connection = writer.add_connection("/" + topic.name, topic.type, typestore=typestore)
    message = typestore.types[topic.type](header=typestore.types["std_msgs/msg/Header"](
        stamp=typestore.types["builtin_interfaces/msg/Time"](sec=1, nanosec=0), frame_id=""),
        name=["shoulder_pan"], position=np.zeros(1), velocity=np.zeros(0), effort=np.zeros(0))
    writer.write(connection, 1_000_000_000, typestore.serialize_cdr(message, topic.type))
    writer.close()
    assert main(["from-bag", str(tmp_path / "bag"), str(tmp_path / "out")]) == 1
    error = capsys.readouterr().err
    assert "lacks /follower/joint_commands" in error and "it holds /follower/joint_states" in error
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.partial").exists()
