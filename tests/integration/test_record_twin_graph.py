"""Done when: one command runs teleop → MuJoCo twin → recorder on the emulated arms, and the files check out.

The twin graph (`so101 run twin --emulate`) runs in-process on this test's own ROS domain; a probe
engages teleop and drives the recorder through its services, as an operator's script would.
Then the HDF5 file and the LeRobot dataset are opened with our reader, pyarrow and PyAV, and
checked: shapes, lengths, attributes, decodable video. (LeRobot's own loader opening a dataset
of ours is test_lerobot_loader.py.)
"""
from __future__ import annotations

import json
import time

import av
import numpy as np
import pyarrow.parquet as pq
import pytest
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from std_msgs.msg import String
from std_srvs.srv import SetBool, Trigger

from so101_bringup.arguments import TwinArgs
from so101_bringup.launch_graphs import twin_graph
from so101_bringup.runner import GraphRunner
from so101_calibration import JOINT_NAMES
from so101_calibration.interface_contract import (
    POLICY_INSTRUCTION,
    RECORDER_MARK_SUBTASK,
    RECORDER_START,
    RECORDER_STOP,
    TELEOP_ENGAGE,
    Service,
)
from so101_hardware.ros.endpoints import client, publisher
from so101_sim_bridge.recorder import read_hdf5_demos
from tests_support.ros import domain_for_this_process, spin_until

TIMEOUT_S = 60.0
FPS = 5
WIDTH, HEIGHT = 160, 120
INSTRUCTION = "stack the blocks"


class Operator:
    """Calls services and waits on conditions, spinning its own executor."""

    def __init__(self, context):
        self.node = Node("operator", context=context)
        self.executor = SingleThreadedExecutor(context=context)
        self.executor.add_node(self.node)
        self.instruction = publisher(self.node, POLICY_INSTRUCTION)

    def call(self, service: Service, request):
        service_client = client(self.node, service)
        assert service_client.wait_for_service(timeout_sec=TIMEOUT_S), f"no {service.name} service"
        future = service_client.call_async(request)
        assert spin_until(self.executor, future.done, TIMEOUT_S), f"{service.name} did not answer"
        self.node.destroy_client(service_client)
        return future.result()

    def call_until_success(self, service: Service, request):
        """Call until the service agrees (e.g. the recorder waits for its inputs to arrive)."""
        answers = []

        def succeeded() -> bool:
            answers.append(self.call(service, request))
            return answers[-1].success

        assert spin_until(self.executor, succeeded, TIMEOUT_S), answers[-1].message
        return answers[-1]

    def wait_for(self, condition) -> None:
        assert spin_until(self.executor, condition, TIMEOUT_S)

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_teleop_mirrored_into_the_mujoco_twin_is_recorded_into_hdf5_and_lerobot(tmp_path):
    (tmp_path / "buses").mkdir()
    hdf5_path, lerobot_root = tmp_path / "demos.hdf5", tmp_path / "lerobot"
    graph = twin_graph(TwinArgs(emulate=True, emulator_dir=str(tmp_path / "buses"), uart_timing=False))
    graph = graph.with_parameters([
        ("recorder", "hdf5_path", str(hdf5_path)),
        ("recorder", "lerobot_root", str(lerobot_root)),
        ("recorder", "fps", FPS),
        ("mujoco_twin", "camera_width", WIDTH),
        ("mujoco_twin", "camera_height", HEIGHT),
    ])
    with GraphRunner(graph, domain_id=domain_for_this_process()) as running:
        operator = Operator(running.context)
        recorder = running.node("recorder")
        operator.instruction.publish(String(data=INSTRUCTION))
        operator.wait_for(lambda: recorder.instruction == INSTRUCTION)
        operator.call_until_success(TELEOP_ENGAGE, SetBool.Request(data=True))

        operator.wait_for(lambda: not recorder.inputs.missing(time.time()))  # twin states, its cameras, commands
        started = operator.call(RECORDER_START, Trigger.Request())
        assert started.message == f"recording episode 1: {INSTRUCTION!r}"
        for marks, steps in ((1, 3), (2, 6)):  # the operator ends both subtasks of the task (manual annotation)
            operator.wait_for(lambda steps=steps: recorder.session.status.steps >= steps)
            assert operator.call(RECORDER_MARK_SUBTASK, Trigger.Request()).message == f"subtask {marks} ends here"
        operator.wait_for(lambda: recorder.session.status.steps >= 10)
        saved = operator.call(RECORDER_STOP, SetBool.Request(data=True))
        assert saved.success and "episode 1 (success)" in saved.message and "data/demo_0, episode_0" in saved.message

        assert operator.call(RECORDER_START, Trigger.Request()).success
        operator.wait_for(lambda: recorder.session.status.steps >= 3)
        failed = operator.call(RECORDER_STOP, SetBool.Request(data=False))
        assert failed.success and "episode 2 (failure)" in failed.message and "data/demo_1" in failed.message
        operator.close()
    # leaving the runner destroyed the recorder node, which closed the writers (LeRobot metadata)

    dataset = read_hdf5_demos(hdf5_path)
    success, failure = dataset.demos
    assert (success.success, failure.success) == (True, False)
    assert dataset.total == success.num_samples + failure.num_samples
    assert dataset.env_args["joint_names"] == list(JOINT_NAMES) and dataset.env_args["fps"] == FPS
    for demo in dataset.demos:
        steps = demo.num_samples
        assert demo.instruction == INSTRUCTION
        assert demo.actions.shape == demo.joint_pos.shape == demo.state_joint_position.shape == (steps, 6)
        assert demo.initial_joint_position.shape == (1, 6)
        assert set(demo.images) == {"wrist", "front"}
        assert all(images.shape == (steps, HEIGHT, WIDTH, 3) for images in demo.images.values())
        assert np.isfinite(demo.actions).all() and np.isfinite(demo.joint_pos).all()
        assert demo.images["front"].std() > 5, "the twin's scene, not a blank frame"
        # recorder.yaml's task: the twin's objects from /sim/objects/<name>/pose, Mimic's datagen_info
        for name in ("red_cube", "blue_block", "green_cylinder"):
            assert demo[f"states/rigid_object/{name}/root_pose"].shape == (steps, 7)
        assert demo["obs/datagen_info/eef_pose/so101_follower"].shape == (steps, 4, 4)
        assert demo["obs/ee_frame_state"].shape == (steps, 7)
    assert success.num_samples >= 9
    assert success["initial_state/rigid_object/red_cube/root_pose"][0, 2] == pytest.approx(0.02, abs=0.01), "on the table"
    assert (success.attrs["subtask_annotation"], failure.attrs["subtask_annotation"]) == ("manual", "auto")
    grasp = success["obs/datagen_info/subtask_term_signals/grasp_red_cube"]
    assert not grasp[0] and grasp[-1] and np.count_nonzero(np.diff(grasp.astype(int))) == 1
    assert dataset.env_args["env_name"] == "SO101-PickRedCube-Mimic-v0"

    info = json.loads((lerobot_root / "meta" / "info.json").read_text())
    frames = success.num_samples + 1  # LeRobot keeps every step; HDF5 rows end one step early (post-step states)
    assert (info["total_episodes"], info["total_frames"], info["fps"]) == (1, frames, FPS)  # the failure is left out
    assert info["features"]["observation.images.front"]["shape"] == [HEIGHT, WIDTH, 3]
    data = pq.read_table(lerobot_root / "data" / "chunk-000" / "file-000.parquet").to_pydict()
    assert len(data["observation.state"]) == len(data["action"]) == frames
    assert data["frame_index"] == list(range(frames)) and set(data["episode_index"]) == {0}
    tasks = pq.read_table(lerobot_root / "meta" / "tasks.parquet").to_pandas()
    assert list(tasks.index) == [INSTRUCTION]
    for camera in ("wrist", "front"):
        video = lerobot_root / "videos" / f"observation.images.{camera}" / "chunk-000" / "file-000.mp4"
        with av.open(str(video)) as container:
            decoded = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
        assert len(decoded) == frames
        assert decoded[0].shape == (HEIGHT, WIDTH, 3)
