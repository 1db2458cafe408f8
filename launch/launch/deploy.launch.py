"""The policy drives the follower: follower, cameras and the GR00T inference node (no teleop node).

    ros2 launch so101_bringup deploy.launch.py policy_host:=127.0.0.1 policy_port:=5555
    ros2 launch so101_bringup deploy.launch.py emulate:=true      # emulated follower, synthetic cameras
    ros2 service call /policy/run std_srvs/srv/SetBool "{data: true}"

The policy server runs outside this launch (on the GPU machine, or `so101-policy-server
--backend replay`). Every argument: `--show-args`. The node graph is defined once, in
so101_bringup.launch_graphs; `so101 run deploy` starts the same graph without ros2 launch.
"""
from so101_bringup.launch_actions import launch_description


def generate_launch_description():
    return launch_description("deploy")
