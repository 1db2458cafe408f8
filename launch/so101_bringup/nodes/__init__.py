"""ROS 2 nodes of so101_bringup: the rerun node, a thin rclpy wrapper over so101_bringup.visualization.

Built with the ROS toolkit every so101 node shares (so101_hardware.nodes: parameters from a config
dataclass, QoS, diagnostics, run_node). It lives here because it watches every other package's
topics, and so101_bringup is the package that already depends on all of them.
"""
