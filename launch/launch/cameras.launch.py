"""One camera node per /**/camera_<name> section of the cameras file.

    ros2 launch so101_bringup cameras.launch.py cameras_file:=/path/to/my_cameras.yaml
    ros2 launch so101_bringup cameras.launch.py emulate:=true   # synthetic frames, no camera needed

Every argument: `ros2 launch so101_bringup cameras.launch.py --show-args`. The node graph is defined
once, in so101_bringup.launch_graphs; `so101 run cameras` starts the same graph without ros2 launch.
"""
from so101_bringup.launch_actions import launch_description


def generate_launch_description():
    return launch_description("cameras")
