"""Where so101_bringup's shared files (config/*.yaml, config/calibration/*.json) are read from,
and the other so101 packages' (e.g. so101_sim_bridge's config/fastdds_large_messages.xml).

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
import importlib.util
import sys
from pathlib import Path

PACKAGE = "so101_bringup"
CONFIG = "config"


def _source_tree(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f"package {package} is not installed")
    return Path(spec.origin).resolve().parent.parent


def _ament_share(package: str) -> Path | None:
    try:
        from ament_index_python.packages import get_package_share_directory
    except ImportError:
        return None
    try:
        return Path(get_package_share_directory(package))
    except (LookupError, OSError):  # package not in the index, or no AMENT_PREFIX_PATH at all
        return None


def share_dir_candidates(package: str = PACKAGE) -> tuple[Path, ...]:
    """The folders searched for config/, in order."""
    source = _source_tree(package)
    candidates = [source] if (source / "package.xml").is_file() else []
    ament = _ament_share(package)
    if ament is not None:
        candidates.append(ament)
    candidates.append(Path(sys.prefix) / "share" / package)
    return tuple(candidates)


@functools.cache
def share_dir(package: str = PACKAGE) -> Path:
    """A package's share folder (see the module docstring); FileNotFoundError lists where it looked."""
    candidates = share_dir_candidates(package)
    for candidate in candidates:
        if (candidate / CONFIG).is_dir():
            return candidate
    searched = ", ".join(str(c / CONFIG) for c in candidates)
    raise FileNotFoundError(
        f"{package}'s config folder is missing (searched {searched}); reinstall the package, "
        "or source the ROS workspace it was built in"
    )


def config_path(*parts: str, package: str = PACKAGE) -> Path:
    """A file under a package's config/ folder, e.g. config_path("follower.yaml")."""
    return share_dir(package).joinpath(CONFIG, *parts)
