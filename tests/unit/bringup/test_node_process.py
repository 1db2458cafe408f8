"""The command line a node process is started with: what `ros2 run` would be given."""
from pathlib import Path

from so101_bringup.graph_spec import NodeSpec
from so101_bringup.node_process import node_command
from so101_calibration.interface_contract import POLICY_INSTRUCTION


def test_the_command_carries_name_namespace_params_files_values_and_remaps():
    spec = NodeSpec(
        "so101_sim_bridge", "recorder_node", "recorder", "arm1",
        parameters={"fps": 4, "cameras": ("wrist=/my/wrist/image",), "keyboard": False, "hdf5_path": "a b.h5"},
        param_files=(Path("/cfg/recorder.yaml"),),
        remappings=((POLICY_INSTRUCTION.name, "/task"),),
    )
    command = node_command(spec)
    assert command[1:3] == ["-m", "so101_sim_bridge.nodes.recorder_node"]
    ros_args = command[command.index("--ros-args"):]
    assert ros_args == [
        "--ros-args", "-r", "__node:=recorder", "-r", "__ns:=/arm1", "--params-file", "/cfg/recorder.yaml",
        "-p", "fps:=4", "-p", 'cameras:=["wrist=/my/wrist/image"]', "-p", "keyboard:=false",
        "-p", 'hdf5_path:="a b.h5"', "-r", f"{POLICY_INSTRUCTION.name}:=/task",
    ]
