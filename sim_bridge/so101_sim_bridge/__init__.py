"""so101_sim_bridge: mirrors the SO-101 follower into Isaac Sim or an embedded MuJoCo twin and records demos.

Pure libraries (no rclpy): `twin` (the embedded MuJoCo twin: model, stepping, offscreen cameras),
`recorder` (time alignment, Isaac Lab HDF5 and LeRobot v3 writers, the writer thread, keyboard
control), `bridge` and `mapping` (the twin bridge's tracking and lag, the sim mapping as
parameters), `isaac` (the Isaac Sim action graph as data; sim_bridge/scripts/isaac_sim_twin.py
builds it inside Isaac Sim). `nodes` holds the ROS 2 nodes that wrap them: twin_bridge_node,
mujoco_twin_node, recorder_node. This file imports nothing, so Isaac Sim's Python can import
`so101_sim_bridge.isaac` without our dependencies.
"""
