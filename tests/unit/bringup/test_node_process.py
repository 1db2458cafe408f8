"""A node process: the command line it is started with (what `ros2 run` would be given), and its end."""
import subprocess
import sys
import time
from pathlib import Path

import pytest

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


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl(PR_SET_PDEATHSIG) is Linux's")
def test_a_node_process_is_interrupted_when_its_runner_is_killed(tmp_path):
    """A runner killed without its teardown (SIGKILL) must not leave its nodes running on the graph's domain."""
    marker = tmp_path / "interrupted"
    child = ("import signal, sys, time\n"
             "def on_sigint(*_):\n"
             f"    open({str(marker)!r}, 'w').write('SIGINT')\n"
             "    sys.exit(0)\n"
             "signal.signal(signal.SIGINT, on_sigint)\n"
             "print('ready', flush=True)\n"
             "time.sleep(60)\n")
    runner = ("import subprocess, sys, time\n"
              "from so101_bringup.node_process import _stop_with_the_runner\n"
              f"node = subprocess.Popen([sys.executable, '-c', {child!r}], preexec_fn=_stop_with_the_runner,\n"
              "                        stdout=subprocess.PIPE, text=True)\n"
              "print(node.stdout.readline().strip(), flush=True)\n"
              "time.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", runner], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout.readline().strip() == "ready"
        parent.kill()
        parent.wait(10)
        deadline = time.monotonic() + 10
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.02)  # polling the node's marker file: the condition, bounded
        assert marker.read_text() == "SIGINT"
    finally:
        parent.kill()
        parent.stdout.close()
