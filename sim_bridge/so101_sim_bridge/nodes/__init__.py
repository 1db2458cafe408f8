"""ROS 2 nodes of so101_sim_bridge: the twin bridge, the MuJoCo twin and the demo recorder.

Thin wrappers built on the ROS toolkit (so101_hardware.ros): each owns its topics, services,
timers and threads and hands everything else to the pure libraries one level up (bridge, twin,
recorder).
"""
