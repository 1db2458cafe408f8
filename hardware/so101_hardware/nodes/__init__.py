"""ROS 2 nodes of so101_hardware: leader, follower, teleop and camera.

Nodes stay thin: they own parameters, topics, services, timers and diagnostics (through the
toolkit in so101_hardware.ros) and delegate all logic to the pure libraries one level up
(leader, follower, teleop, cameras, safety). arm_node holds what the leader and follower share.
"""
