"""What the Isaac Sim ROS 2 bridge needs from its environment, and the fix to print when it is missing.

The bridge extension loads ROS 2 libraries when it starts: a sourced ROS installation of a distribution
the Isaac Sim version supports, or the libraries it bundles under `exts/<bridge>/<distro>/lib`, which need
ROS_DISTRO, RMW_IMPLEMENTATION=rmw_fastrtps_cpp and that folder on LD_LIBRARY_PATH before Isaac Sim
starts (docs/reference/isaac-sim.md §1.4). Without them it logs "ROS2 Bridge startup failed" and turns
itself off, and the graph later fails with "unknown node type". Isaac Sim 4.5 bundles Humble only; 5.0 and
5.1 bundle Humble and Jazzy (Jazzy recommended).

Nothing here imports Isaac Sim.
"""
from __future__ import annotations

from collections.abc import Mapping

BUNDLED_DISTROS = {"4.2": ("humble",), "4.5": ("humble",), "5.0": ("humble", "jazzy"), "5.1": ("humble", "jazzy")}
"""Isaac Sim version → the ROS 2 distributions whose libraries it bundles (the last is the recommended one)."""
RMW = "rmw_fastrtps_cpp"


def environment_problems(environ: Mapping[str, str], isaac_version: str, bridge_extension: str) -> list[str]:
    """What in `environ` keeps the bridge from loading its ROS libraries (empty: looks right)."""
    distros = BUNDLED_DISTROS[isaac_version]
    distro = environ.get("ROS_DISTRO", "")
    problems = []
    if not distro:
        problems.append("ROS_DISTRO is not set")
    elif distro not in distros:
        problems.append(f"ROS_DISTRO={distro}, but Isaac Sim {isaac_version} supports {' and '.join(distros)}")
    if environ.get("RMW_IMPLEMENTATION", RMW) != RMW:
        problems.append(f"RMW_IMPLEMENTATION={environ['RMW_IMPLEMENTATION']}: use {RMW} (Fast DDS, as the robot PC)")
    sourced = bool(environ.get("AMENT_PREFIX_PATH"))
    bundled = f"{bridge_extension}/{distro or distros[-1]}/lib"
    if not sourced and bundled not in environ.get("LD_LIBRARY_PATH", ""):
        problems.append(f"no ROS 2 sourced (AMENT_PREFIX_PATH is empty) and LD_LIBRARY_PATH lacks .../exts/{bundled}")
    return problems


def environment_fix(isaac_version: str, bridge_extension: str) -> str:
    """The shell lines that give the bridge its bundled libraries (for the failure message and the README)."""
    distro = BUNDLED_DISTROS[isaac_version][-1]
    return (
        f"export ROS_DISTRO={distro} RMW_IMPLEMENTATION={RMW}\n"
        f"export LD_LIBRARY_PATH=$LD_LIBRARY_PATH:<isaac sim>/exts/{bridge_extension}/{distro}/lib\n"
        "# <isaac sim>: the folder of python.sh, or for the pip install (isaacsim wheels)\n"
        "# $(python -c 'import isaacsim, os; print(os.path.dirname(isaacsim.__file__))')\n"
        "# then start this script again from that shell"
    )


def bridge_failure_message(environ: Mapping[str, str], isaac_version: str, bridge_extension: str) -> str:
    """Why the bridge extension is off after enabling it, and what to do."""
    problems = environment_problems(environ, isaac_version, bridge_extension) or [
        "the environment looks right: read Isaac Sim's log above for the bridge's own error"
    ]
    return (
        f"the ROS 2 bridge extension ({bridge_extension}) did not start, so the twin's graph cannot be built:\n  "
        + "\n  ".join(problems)
        + f"\nFix (Isaac Sim {isaac_version}, its bundled ROS 2 libraries):\n"
        + environment_fix(isaac_version, bridge_extension)
    )
