"""Leader, follower and teleop nodes, plus the cameras (cameras:=false for none).

    ros2 launch so101_bringup teleop.launch.py                  # real arms on /dev/so101_leader, /dev/so101_follower
    ros2 launch so101_bringup teleop.launch.py emulate:=true    # emulated buses, synthetic cameras
    ros2 launch so101_bringup teleop.launch.py rerun:=true      # + live rerun viewer, http://127.0.0.1:9878
    ros2 launch so101_bringup teleop.launch.py rviz:=true       # + the follower in RViz (ROS desktop packages)

Every argument: `ros2 launch so101_bringup teleop.launch.py --show-args`. The node graph is defined
once, in so101_bringup.launch_graphs; `so101 run teleop` starts the same graph without ros2 launch.
"""
from so101_bringup.launch_actions import launch_description


def generate_launch_description():
    return launch_description("teleop")
