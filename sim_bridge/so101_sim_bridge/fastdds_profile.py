"""The Fast DDS profile for large messages (camera images between processes), under both variable names.

Fast DDS moves same-host messages through shared-memory segments of 512 KB by default; a 640x480
rgb8 image (900 KB) does not fit, falls back to fragmented UDP and, best effort, practically never
arrives. config/fastdds_large_messages.xml enlarges the segments. Fast DDS reads the profile file
from an environment variable whose name changed with its major version (docs/reference/ros-distributions.md §2):
FASTRTPS_DEFAULT_PROFILES_FILE for Fast DDS 2.x (Humble 2.6, Jazzy 2.14, Isaac Sim's bundled
libraries), FASTDDS_DEFAULT_PROFILES_FILE for 3.x (Kilted). Humble and Jazzy ignore the new name, so
the stack always sets both (Kilted's rmw also reads the old one, and logs a deprecation warning per
process for it: the price of one setting that works everywhere).
"""
from __future__ import annotations

import os
from collections.abc import Mapping

PROFILE_FILE = "fastdds_large_messages.xml"
"""In so101_sim_bridge's config/ (share/so101_sim_bridge/config once installed)."""
PROFILE_VARIABLES = ("FASTRTPS_DEFAULT_PROFILES_FILE", "FASTDDS_DEFAULT_PROFILES_FILE")
"""Fast DDS 2.x's name, then 3.x's."""


def profile_environment(profile: str | os.PathLike[str], environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The variables to add to a node process's environment so every Fast DDS version reads a profile.

    `profile` unless the environment already names one: then that one (the user's choice for this
    machine), under whichever of the two names is missing. Empty when both are set already.
    """
    chosen = next((environ[name] for name in PROFILE_VARIABLES if environ.get(name)), os.fspath(profile))
    return {name: chosen for name in PROFILE_VARIABLES if not environ.get(name)}
