"""ROS 2 nodes of so101_hardware and the small ROS toolkit every so101 node shares.

Nodes stay thin: they own parameters, topics, services, timers and diagnostics, and delegate
all logic to the pure libraries one level up (leader, follower, teleop, cameras, safety).
"""
