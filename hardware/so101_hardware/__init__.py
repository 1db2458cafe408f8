"""so101_hardware: everything that touches SO-101 hardware, or pretends to.

Layers (lower never imports higher): `protocol` (packet codec) and `control_table` (STS3215
registers) → `bus` (serial driver) → `arm` (six named joints, torque safety). `emulator` serves
the same protocol on a virtual serial port; `cameras` captures frames; `tools` are the CLIs.
None of these modules import rclpy; ROS nodes live in `so101_hardware.nodes`.
"""
