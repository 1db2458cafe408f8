"""Where a graph's tools (graph_spec.ToolSpec: robot_state_publisher, rviz2) are installed, or what to install.

A ROS 2 package's executables are in `<prefix>/lib/<package>/`, its prefix found through the ament index
(the AMENT_PREFIX_PATH a sourced ROS installation sets). Both `ros2 launch` and `so101 run` ask here before
anything starts, so a missing tool stops the graph with the install line instead of a failure halfway.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from so101_bringup.graph_spec import ToolSpec


class ToolNotInstalledError(RuntimeError):
    """A graph's tool is not installed; the message names it and what to install."""


def tool_executable(tool: ToolSpec) -> Path:
    """The tool's executable; ToolNotInstalledError when its package or executable is not found."""
    try:
        from ament_index_python.packages import PackageNotFoundError, get_package_prefix
    except ImportError:  # no ROS installation at all
        prefix = None
    else:
        try:
            prefix = Path(get_package_prefix(tool.package))
        except (PackageNotFoundError, LookupError, ValueError, OSError):
            prefix = None
    executable = prefix / "lib" / tool.package / tool.executable if prefix else None
    if executable is None or not os.access(executable, os.X_OK):
        raise ToolNotInstalledError(missing_message([tool]))
    return executable


def missing_tools(tools: Iterable[ToolSpec]) -> list[ToolSpec]:
    missing = []
    for tool in tools:
        try:
            tool_executable(tool)
        except ToolNotInstalledError:
            missing.append(tool)
    return missing


def missing_message(tools: Iterable[ToolSpec]) -> str:
    tools = list(tools)
    names = " and ".join(f"{t.package}/{t.executable}" for t in tools)
    hints = " ".join(dict.fromkeys(t.install_hint for t in tools if t.install_hint))
    return (f"{names} not installed (not found through AMENT_PREFIX_PATH): sudo apt-get install {hints} "
            "(both come with ros-$ROS_DISTRO-desktop), then source /opt/ros/$ROS_DISTRO/setup.bash; "
            "or start without rviz")


def require_tools(tools: Iterable[ToolSpec]) -> None:
    """ToolNotInstalledError naming every missing tool at once."""
    missing = missing_tools(tools)
    if missing:
        raise ToolNotInstalledError(missing_message(missing))
