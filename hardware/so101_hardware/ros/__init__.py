"""The ROS 2 toolkit every so101 node is built on (layer 2 of docs/architecture.md).

Below every node package and above the pure libraries: nodes in so101_hardware, so101_sim_bridge,
so101_policy and so101_bringup import from here, never from each other.

  lifecycle     So101Node (name, config, clean failed start), run_node, node_main
  errors        NodeStartError, ConfigError: what a node's console script reports as one line
  params        ROS parameters declared from a node's typed config dataclass
  endpoints     publishers, subscriptions, services and clients from the interface contract
                (so101_calibration.interface_contract): message class and QoS come with the name
  qos           the contract's QoS specs as rclpy profiles
  stamps        builtin_interfaces Time/Duration ↔ float seconds
  joint_states  JointState in and out, by joint name
  images        sensor_msgs/Image ↔ RGB arrays (no cv_bridge)
  chunk_messages  policy/chunk (trajectory_msgs/JointTrajectory) ↔ arrays
  diagnostics   /diagnostics at 1 Hz from a node's health

Importing this package imports nothing; each module imports rclpy or the message packages it needs.
"""
