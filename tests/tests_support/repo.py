"""Where the repository and its packages are, for tests that check its shape."""
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# folder → ROS 2 package name (docs/architecture.md §3)
PACKAGES = {
    "hardware": "so101_hardware",
    "calibration": "so101_calibration",
    "sim_bridge": "so101_sim_bridge",
    "policy_server": "so101_policy",
    "launch": "so101_bringup",
}
