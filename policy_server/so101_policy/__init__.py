"""so101_policy: Isaac-GR00T wire codec, policy server and action-chunk streaming (no ROS import).

The codec, server and scheduler arrive with issue 6; the package exists now so the repository
shape (DESIGN.md §3) is fixed and it installs on a GPU machine without ROS.
"""
