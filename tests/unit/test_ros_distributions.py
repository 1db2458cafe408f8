"""What differs between Humble, Jazzy and Kilted (docs/reference/ros-distributions.md), checked where the
stack depends on it: Fast DDS's profile variable, local discovery, Python 3.10's future timeouts."""
from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import re

import pytest

from so101_sim_bridge.fastdds_profile import (
    PROFILE_FILE,
    PROFILE_VARIABLES,
    installed_fastdds_major,
    profile_environment,
)
from tests_support.repo import PACKAGES, REPO
from tests_support.ros import LOCAL_DISCOVERY

FASTRTPS, FASTDDS = PROFILE_VARIABLES
CODE_FOLDERS = (*PACKAGES, "benchmarks", "tests/tests_support")


def python_files():
    for folder in CODE_FOLDERS:
        yield from sorted((REPO / folder).rglob("*.py"))


# --- the large-message Fast DDS profile ------------------------------------------------------------


def test_both_profile_variables_point_at_the_profile_when_the_fast_dds_version_is_unknown():
    expected = {FASTRTPS: "/share/profile.xml", FASTDDS: "/share/profile.xml"}
    assert profile_environment("/share/profile.xml", {}, fastdds_major=None) == expected


@pytest.mark.parametrize("major,name", [(2, FASTRTPS), (3, FASTDDS)])
def test_a_known_fast_dds_gets_the_one_name_it_reads(major, name):
    """Kilted's Fast DDS 3 also reads the old name, but warns in every process: only the new one is set."""
    assert profile_environment("/share/profile.xml", {}, fastdds_major=major) == {name: "/share/profile.xml"}


@pytest.mark.parametrize("distribution,major", [("humble", 2), ("jazzy", 2), ("kilted", 3), ("", None)])
def test_the_ros_distribution_tells_the_fast_dds_version_without_the_pypi_wheels(distribution, major, monkeypatch):
    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    assert installed_fastdds_major({"ROS_DISTRO": distribution}) == major


@pytest.mark.parametrize("given", [FASTRTPS, FASTDDS])
def test_a_profile_the_user_set_under_one_name_is_carried_over_to_the_other(given):
    other = FASTDDS if given == FASTRTPS else FASTRTPS
    assert profile_environment("/share/profile.xml", {given: "/home/me/mine.xml"}, fastdds_major=None) == {
        other: "/home/me/mine.xml"}


def test_nothing_is_added_when_both_are_set():
    assert profile_environment("/share/profile.xml", {FASTRTPS: "/a.xml", FASTDDS: "/b.xml"}, fastdds_major=None) == {}


def test_only_the_profile_module_spells_the_variable_names():
    """Every place that sets the profile goes through profile_environment, so none sets one name only."""
    name = re.compile(r"FAST(RTPS|DDS)_DEFAULT_PROFILES_FILE")
    spelled = [path.relative_to(REPO) for path in python_files()
               if path.name != "fastdds_profile.py" and name.search(path.read_text())]
    assert not spelled


def test_the_profile_ships_where_the_module_says():
    assert (REPO / "sim_bridge" / "config" / PROFILE_FILE).is_file()


@pytest.mark.parametrize("document", ["README.md", "sim_bridge/config/fastdds_large_messages.xml"])
def test_documents_name_both_variables_together(document):
    """A paragraph telling users to export one name must give the other too (Humble/Jazzy read FASTRTPS_...)."""
    paragraphs = re.split(r"\n\s*\n", (REPO / document).read_text())
    one_name_only = [p[:120] for p in paragraphs if (FASTRTPS in p) != (FASTDDS in p)]
    assert not one_name_only
    assert any(FASTRTPS in p for p in paragraphs)


# --- local discovery ----------------------------------------------------------------------------------


def _benchmark_local_discovery() -> dict[str, str]:
    spec = importlib.util.spec_from_file_location("_emulator_process", REPO / "benchmarks" / "_emulator_process.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.LOCAL_DISCOVERY


@pytest.mark.parametrize("environment", [LOCAL_DISCOVERY, _benchmark_local_discovery()], ids=["tests", "benchmarks"])
def test_local_discovery_is_set_for_humble_too(environment):
    """ROS_AUTOMATIC_DISCOVERY_RANGE is read from Iron on; Humble keeps discovery local only with ROS_LOCALHOST_ONLY."""
    assert environment == {"ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST", "ROS_LOCALHOST_ONLY": "1"}


# --- Python 3.10 (Humble's) ------------------------------------------------------------------------------


def _catches_builtin_timeout(handler: ast.ExceptHandler) -> bool:
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(name, ast.Name) and name.id == "TimeoutError" for name in names)


def _waits_on_a_future(body: list[ast.stmt]) -> bool:
    return any(isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "result"
               and (node.args or node.keywords) for statement in body for node in ast.walk(statement))


def test_future_timeouts_are_caught_as_concurrent_futures_timeouts():
    """Future.result(timeout) raises concurrent.futures.TimeoutError, the builtin TimeoutError only
    from Python 3.11: `except TimeoutError` around it catches nothing on Humble's Python 3.10."""
    wrong = [f"{path.relative_to(REPO)}:{node.lineno}" for path in python_files()
             for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, ast.Try) and _waits_on_a_future(node.body)
             and any(_catches_builtin_timeout(handler) for handler in node.handlers)]
    assert not wrong
