"""so101_sim_bridge: mirrors the SO-101 follower into Isaac Sim or an embedded MuJoCo twin and records demos.

Pure libraries (no rclpy): `twin` (the embedded MuJoCo twin: model, stepping, offscreen cameras),
`recorder` (time alignment, Isaac Lab HDF5 and LeRobot v3 writers), `isaac` (the Isaac Sim action
graph as data; sim_bridge/scripts/isaac_sim_twin.py builds it inside Isaac Sim). The ROS nodes
that wrap them come separately. This file imports nothing, so Isaac Sim's Python can import
`so101_sim_bridge.isaac` without our dependencies.
"""
