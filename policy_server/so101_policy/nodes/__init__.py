"""The ROS 2 node of so101_policy: the inference node, a thin rclpy wrapper over so101_policy.inference.

This folder is the only part of so101_policy that imports ROS or so101_hardware (for the ROS
toolkit every so101 node is built on, so101_hardware.ros). The rest of the package stays
installable on a GPU machine that has neither; package.xml, not setup.py, declares the
dependency, because only a robot PC with ROS runs this node.
"""
