"""The embedded MuJoCo twin of the SO-101 follower (pure library; the ROS node wraps it).

Importing this package picks a headless OpenGL backend for MuJoCo first (gl.py), because mujoco
fixes its backend when it is imported::

    from so101_sim_bridge.twin import MujocoTwin, TwinConfig
    with MujocoTwin(TwinConfig()) as twin:
        twin.set_targets(["shoulder_lift"], [0.5])   # sim names, physical radians
        twin.step(1 / 30)
        image = twin.render("wrist")                 # 480 x 640 x 3 uint8 RGB
"""
from so101_sim_bridge.twin.gl import configure_headless_gl

configure_headless_gl()

from so101_sim_bridge.twin.assets import so101_mjcf_path  # noqa: E402
from so101_sim_bridge.twin.config import (  # noqa: E402
    TWIN_CAMERAS,
    TWIN_JOINT_NAMES,
    MujocoTwinNodeConfig,
    TwinCameraConfig,
    TwinConfig,
)
from so101_sim_bridge.twin.render import TwinRenderError  # noqa: E402
from so101_sim_bridge.twin.twin import MODEL_OFFSET_JOINTS, MujocoTwin, TwinState  # noqa: E402

__all__ = [
    "MODEL_OFFSET_JOINTS",
    "TWIN_CAMERAS",
    "TWIN_JOINT_NAMES",
    "MujocoTwin",
    "MujocoTwinNodeConfig",
    "TwinCameraConfig",
    "TwinConfig",
    "TwinRenderError",
    "TwinState",
    "configure_headless_gl",
    "so101_mjcf_path",
]
