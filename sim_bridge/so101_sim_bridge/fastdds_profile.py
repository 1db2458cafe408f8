"""The Fast DDS profile for large messages (camera images between processes), under both variable names.

Fast DDS moves same-host messages through shared-memory segments of 512 KB by default; a 640x480
rgb8 image (900 KB) does not fit, falls back to fragmented UDP and, best effort, practically never
arrives. config/fastdds_large_messages.xml enlarges the segments. Fast DDS reads the profile file
from an environment variable whose name changed with its major version (docs/reference/ros-distributions.md §2):
FASTRTPS_DEFAULT_PROFILES_FILE for Fast DDS 2.x (Humble 2.6, Jazzy 2.14, Isaac Sim's bundled
libraries), FASTDDS_DEFAULT_PROFILES_FILE for 3.x (Kilted). Humble and Jazzy ignore the new name;
Kilted's rmw reads the old one too, but logs a deprecation warning in every process that has it. So
the stack sets the name the installed Fast DDS reads when it can tell which (the PyPI ROS wheels'
ros-fastdds version, else ROS_DISTRO), and both when it cannot.
"""
from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Mapping

PROFILE_FILE = "fastdds_large_messages.xml"
"""In so101_sim_bridge's config/ (share/so101_sim_bridge/config once installed)."""
PROFILE_VARIABLES = ("FASTRTPS_DEFAULT_PROFILES_FILE", "FASTDDS_DEFAULT_PROFILES_FILE")
"""Fast DDS 2.x's name, then 3.x's."""


FASTDDS_2_DISTRIBUTIONS = ("humble", "iron", "jazzy")
UNKNOWN = None


def installed_fastdds_major(environ: Mapping[str, str] = os.environ) -> int | None:
    """Fast DDS's major version where it can be told: the PyPI ROS wheels' ros-fastdds, else ROS_DISTRO."""
    try:
        return int(importlib.metadata.version("ros-fastdds").split(".")[0])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        pass
    distribution = environ.get("ROS_DISTRO", "")
    if not distribution:
        return UNKNOWN
    return 2 if distribution in FASTDDS_2_DISTRIBUTIONS else 3


def profile_environment(
    profile: str | os.PathLike[str],
    environ: Mapping[str, str] = os.environ,
    fastdds_major: int | None | str = "installed",
) -> dict[str, str]:
    """The variables to add to a node process's environment so its Fast DDS reads a profile.

    `profile` unless the environment already names one: then that one (the user's choice for this
    machine), under the name `fastdds_major` reads (2: FASTRTPS_..., 3: FASTDDS_...; None: both;
    default: the installed version's) where it is missing. Empty when it is set already.
    """
    major = installed_fastdds_major(environ) if fastdds_major == "installed" else fastdds_major
    names = {2: PROFILE_VARIABLES[:1], 3: PROFILE_VARIABLES[1:]}.get(major, PROFILE_VARIABLES)
    chosen = next((environ[name] for name in PROFILE_VARIABLES if environ.get(name)), os.fspath(profile))
    return {name: chosen for name in names if not environ.get(name)}
