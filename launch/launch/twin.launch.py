"""Teleop mirrored into a simulator, and the demo recorder: teleop graph, twin bridge, MuJoCo twin, recorder.

    ros2 launch so101_bringup twin.launch.py emulate:=true           # emulated arms, embedded MuJoCo twin
    ros2 launch so101_bringup twin.launch.py sim:=isaac              # real arms; Isaac Sim started on its own
    ros2 launch so101_bringup twin.launch.py emulate:=true rerun:=true   # + live rerun viewer, http://127.0.0.1:9878
    ros2 service call /teleop/engage std_srvs/srv/SetBool "{data: true}"
    ros2 service call /recorder/start std_srvs/srv/Trigger
    ros2 service call /recorder/stop std_srvs/srv/SetBool "{data: true}"   # true: success

Keys B/N/R work in the terminal of `so101 run twin` (the recorder runs in that process); under
ros2 launch use the services. Every argument: `--show-args`. The node graph is defined once, in
so101_bringup.launch_graphs; `so101 run twin` starts the same graph without ros2 launch.
"""
from so101_bringup.launch_actions import launch_description


def generate_launch_description():
    return launch_description("twin")
