"""Where so101_bringup's shared files (config/*.yaml, config/calibration/*.json) are read from.

The same graph code runs from three layouts, so the lookup tries, in order:

1. the source tree: the folder holding this package and its package.xml (an editable pip
   install, `colcon build --symlink-install`, or the in-process runner in a checkout). First,
   so code always reads the configs that sit beside it, never a stale installed copy;
2. the ROS share folder, `ament_index_python.get_package_share_directory("so101_bringup")`
   (a `colcon build` without symlinks, a sourced workspace: what `ros2 launch` uses);
3. `<sys.prefix>/share/so101_bringup`, where pip puts setup.py's data_files (a plain wheel
   install without ROS).

The first that holds config/ wins. setup.py installs the same tree into (2) and (3).
"""
from __future__ import annotations

import functools
import sys
from pathlib import Path

PACKAGE = "so101_bringup"
CONFIG = "config"


def _source_tree() -> Path:
    return Path(__file__).resolve().parent.parent


def _ament_share() -> Path | None:
    try:
        from ament_index_python.packages import get_package_share_directory
    except ImportError:
        return None
    try:
        return Path(get_package_share_directory(PACKAGE))
    except (LookupError, OSError):  # package not in the index, or no AMENT_PREFIX_PATH at all
        return None


def share_dir_candidates() -> tuple[Path, ...]:
    """The folders searched for config/, in order."""
    source = _source_tree()
    candidates = [source] if (source / "package.xml").is_file() else []
    ament = _ament_share()
    if ament is not None:
        candidates.append(ament)
    candidates.append(Path(sys.prefix) / "share" / PACKAGE)
    return tuple(candidates)


@functools.cache
def share_dir() -> Path:
    """so101_bringup's share folder (see the module docstring); FileNotFoundError lists where it looked."""
    candidates = share_dir_candidates()
    for candidate in candidates:
        if (candidate / CONFIG).is_dir():
            return candidate
    searched = ", ".join(str(c / CONFIG) for c in candidates)
    raise FileNotFoundError(
        f"so101_bringup's config folder is missing (searched {searched}); reinstall the package, "
        "or source the ROS workspace it was built in"
    )


def config_path(*parts: str) -> Path:
    """A file under so101_bringup's config/ folder, e.g. config_path("follower.yaml")."""
    return share_dir().joinpath(CONFIG, *parts)
