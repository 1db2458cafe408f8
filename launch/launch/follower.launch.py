"""The follower node alone (for a policy, or commands from elsewhere).

    ros2 launch so101_bringup follower.launch.py follower_port:=/dev/so101_follower
    ros2 launch so101_bringup follower.launch.py emulate:=true

Every argument: `ros2 launch so101_bringup follower.launch.py --show-args`. The node graph is defined
once, in so101_bringup.launch_graphs; `so101 run follower` starts the same graph without ros2 launch.
"""
from so101_bringup.launch_actions import launch_description


def generate_launch_description():
    return launch_description("follower")
