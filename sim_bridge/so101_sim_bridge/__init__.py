"""so101_sim_bridge: mirrors the SO-101 follower into Isaac Sim or an embedded MuJoCo twin and records demos.

The twin bridge, MuJoCo twin and recorder arrive with issue 5; the package exists now so the
repository shape and dependency direction (DESIGN.md §3) are fixed from the start.
"""
