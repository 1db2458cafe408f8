"""The sim_bridge nodes refuse bad set-ups at start with one clear error, and leave the ROS context clean."""
from __future__ import annotations

import os

import pytest
from rclpy.parameter import Parameter

from so101_calibration import JOINT_NAMES
from so101_hardware.ros.errors import ConfigError, NodeStartError
from so101_hardware.ros.lifecycle import STARTUP_ERRORS
from so101_sim_bridge.nodes.recorder_node import RecorderNode
from so101_sim_bridge.nodes.twin_bridge_node import TwinBridgeNode


def start(node_class, ros, **parameters):
    overrides = [Parameter(name, value=value) for name, value in parameters.items()]
    return node_class(node_name="under_test", context=ros, parameter_overrides=overrides)


def test_a_sim_map_missing_a_joint_stops_the_bridge_at_start(ros, tmp_path):
    path = tmp_path / "usd.yaml"
    path.write_text("names:\n" + "".join(f"  {name}: {name.title()}\n" for name in JOINT_NAMES[:-1]))
    with pytest.raises(ValueError, match=r"usd.yaml: names must .*gripper"):
        start(TwinBridgeNode, ros, sim_map=str(path))
    ros.try_shutdown()
    assert not ros.ok()


def test_a_wrongly_typed_parameter_names_node_and_parameter(ros):
    with pytest.raises(ConfigError, match="node under_test: parameter 'publish_rate_hz'"):
        start(TwinBridgeNode, ros, publish_rate_hz=50)  # ROS does not convert: 50.0


def test_an_existing_output_stops_the_recorder_with_what_to_do(ros, tmp_path):
    (tmp_path / "demos.hdf5").write_bytes(b"yesterday")
    advice = r"node under_test: .*demos.hdf5 already exists; resume .*--set recorder.resume=true"
    with pytest.raises(NodeStartError, match=advice):
        start(RecorderNode, ros, hdf5_path=str(tmp_path / "demos.hdf5"), lerobot_root="", keyboard=False)
    assert issubclass(NodeStartError, STARTUP_ERRORS) and issubclass(ConfigError, NodeStartError), "one line"
    ros.try_shutdown()
    assert not ros.ok()


@pytest.mark.parametrize("where", ["a file as the folder", "a read-only folder"])
def test_an_unwritable_output_names_the_parameter(ros, tmp_path, where):
    if where == "a file as the folder":
        (tmp_path / "not_a_folder").write_text("")
        path = tmp_path / "not_a_folder" / "demos.hdf5"
    else:
        (tmp_path / "locked").mkdir()
        (tmp_path / "locked").chmod(0o500)
        path = tmp_path / "locked" / "sub" / "demos.hdf5"
        if os.access(tmp_path / "locked", os.W_OK):
            pytest.skip("running as root: a read-only folder is still writable")
    refusal = rf"node under_test: hdf5_path '{path}': cannot write there .*--set recorder.hdf5_path="
    with pytest.raises(NodeStartError, match=refusal):
        start(RecorderNode, ros, hdf5_path=str(path), lerobot_root="", keyboard=False)


def test_an_unknown_twin_camera_stops_the_twin_naming_the_scenes_cameras(ros):
    # Not imported at collection: mujoco with MUJOCO_GL=osmesa before torchvision crashes (test_twin_bridge.py)
    from so101_sim_bridge.nodes.mujoco_twin_node import MujocoTwinNode

    with pytest.raises(ValueError, match="twin camera 'top' unknown; the scene has wrist, front"):
        start(MujocoTwinNode, ros, cameras=["wrist", "top"])
    ros.try_shutdown()
    assert not ros.ok()
