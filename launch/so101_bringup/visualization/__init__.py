"""Live visualization with rerun, the viewer LeRobot users already know (no ROS here).

`RerunNodeConfig` (config.py) is the rerun node's parameters; `RerunLog` (log.py) turns typed
readings (joint positions by name in radians, RGB images, policy chunks, diagnostics) into rerun
log calls under fixed entity paths; `RerunServer` (server.py) runs the rerun server and web
viewer on 127.0.0.1. The node (so101_bringup.nodes.rerun_node) only wires topics to these.
"""
from so101_bringup.visualization.config import RerunNodeConfig, image_entity
from so101_bringup.visualization.log import TIMELINE, RateLimit, RerunLog, blueprint
from so101_bringup.visualization.server import RerunServer, RerunServerError

__all__ = [
    "TIMELINE",
    "RateLimit",
    "RerunLog",
    "RerunNodeConfig",
    "RerunServer",
    "RerunServerError",
    "blueprint",
    "image_entity",
]
