"""Live visualization with rerun, the viewer LeRobot users already know (no ROS here).

`RerunNodeConfig` (config.py) is the rerun node's parameters; `RerunLog` (log.py) turns typed
readings (joint positions by name in radians, RGB images, policy chunks, diagnostics) into rerun
log calls under fixed entity paths; `RerunServer` (server.py) runs the rerun server and web
viewer on 127.0.0.1. The node (so101_bringup.nodes.rerun_node) only wires topics to these.

log.py and server.py need rerun-sdk, which is optional (`pip install './launch[rerun]'`: it needs
numpy 2, README "Humble / Jazzy / Kilted"), so this package imports only the config: graphs with
the rerun node can be built and checked without rerun-sdk.
"""
from so101_bringup.visualization.config import RerunNodeConfig, image_entity

__all__ = ["RerunNodeConfig", "image_entity"]
