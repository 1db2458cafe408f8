"""What an SO-100/SO-101 checkpoint expects and how the robot's readings meet it.

data_config (cameras, joint groups, language key per checkpoint type), joint_units (the policy's
joint units ↔ ROS radians, through so101_calibration), observation_schema (a valid observation per
data config and generation), observation_builder (robot readings → observation, previous actions
for real-time chunking included), action_decoder (get_action reply → (T, 6) radians), layout (the
server side: state out of an observation, a chunk into a reply). Shared by the robot side and the
replay and synthetic backends.
"""
