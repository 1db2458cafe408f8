"""Where calibration files are found: LeRobot's env vars, both folder names, explicit paths, role/arm checks."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from so101_calibration import (
    AmbiguousCalibrationError,
    ArmRole,
    CalibrationNotFoundError,
    WrongCalibrationError,
    calibration_root,
    load_calibration,
    locate_calibration,
    role_of_path,
)
from so101_calibration.locations import check_arm_id

FOLLOWER, LEADER = ArmRole.FOLLOWER, ArmRole.LEADER


@pytest.mark.parametrize(
    "env,root",
    [
        ({"HF_LEROBOT_CALIBRATION": "/cal", "HF_LEROBOT_HOME": "/lr", "HF_HOME": "/hf"}, "/cal"),
        ({"HF_LEROBOT_HOME": "/lr", "HF_HOME": "/hf", "XDG_CACHE_HOME": "/xdg"}, "/lr/calibration"),
        ({"HF_HOME": "/hf", "XDG_CACHE_HOME": "/xdg"}, "/hf/lerobot/calibration"),
        ({"XDG_CACHE_HOME": "/xdg"}, "/xdg/huggingface/lerobot/calibration"),
        ({}, str(Path.home() / ".cache/huggingface/lerobot/calibration")),
        ({"HF_LEROBOT_CALIBRATION": "~/cal"}, str(Path.home() / "cal")),
    ],
    ids=["HF_LEROBOT_CALIBRATION", "HF_LEROBOT_HOME", "HF_HOME", "XDG_CACHE_HOME", "default", "tilde"],
)
def test_calibration_root_follows_lerobot_precedence(env, root):
    assert calibration_root(env) == Path(root)


def _env(root: Path) -> dict[str, str]:
    return {"HF_LEROBOT_CALIBRATION": str(root)}


def _place(fixtures_dir: Path, root: Path, relative: str, fixture: str = "lerobot_0_4_4_so_follower.json") -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(fixtures_dir / fixture, path)
    return path


@pytest.mark.parametrize(
    "role,relative",
    [
        (FOLLOWER, "robots/so_follower/arm1.json"),
        (FOLLOWER, "robots/so101_follower/arm1.json"),
        (LEADER, "teleoperators/so_leader/arm1.json"),
        (LEADER, "teleoperators/so101_leader/arm1.json"),
    ],
    ids=["follower >=0.4.3", "follower <=0.4.2", "leader >=0.4.3", "leader <=0.4.2"],
)
def test_both_lerobot_folder_names_are_searched(fixtures_dir, tmp_path, role, relative):
    path = _place(fixtures_dir, tmp_path, relative)
    calibration, found = load_calibration(role, "arm1", env=_env(tmp_path))
    assert found == path
    assert calibration["elbow_flex"].homing_offset == -1947


def test_a_new_arm_is_written_to_the_current_lerobot_folder(tmp_path):
    location = locate_calibration(FOLLOWER, "arm1", env=_env(tmp_path))
    assert location.existing is None
    assert location.targets == (tmp_path / "robots/so_follower/arm1.json",)
    assert location.searched == (
        tmp_path / "robots/so_follower/arm1.json",
        tmp_path / "robots/so101_follower/arm1.json",
    )


def test_identical_copies_in_both_folders_are_both_kept_up_to_date(fixtures_dir, tmp_path):
    new = _place(fixtures_dir, tmp_path, "robots/so_follower/arm1.json")
    old = _place(fixtures_dir, tmp_path, "robots/so101_follower/arm1.json")
    location = locate_calibration(FOLLOWER, "arm1", env=_env(tmp_path))
    assert (location.existing, location.targets) == (new, (new, old))


def test_different_files_in_both_folders_are_refused(fixtures_dir, tmp_path):
    _place(fixtures_dir, tmp_path, "robots/so_follower/arm1.json")
    _place(fixtures_dir, tmp_path, "robots/so101_follower/arm1.json", "lerobot_0_4_2_so101_leader.json")
    with pytest.raises(AmbiguousCalibrationError, match=r"two different calibrations for follower arm 'arm1'"):
        locate_calibration(FOLLOWER, "arm1", env=_env(tmp_path))


def test_an_explicit_file_or_directory_is_used(fixtures_dir, tmp_path):
    path = _place(fixtures_dir, tmp_path, "mine/arm1.json")
    assert load_calibration(FOLLOWER, "arm1", path)[1] == path
    assert load_calibration(LEADER, "arm1", tmp_path / "mine")[1] == path  # LeRobot's calibration_dir


def test_not_found_lists_where_it_looked(tmp_path):
    with pytest.raises(CalibrationNotFoundError, match=r"(?s)arm 'arm1'.*so_follower/arm1\.json.*so101_follower"):
        load_calibration(FOLLOWER, "arm1", env=_env(tmp_path))


def test_a_file_under_the_other_role_is_not_used_and_is_pointed_at(fixtures_dir, tmp_path):
    leader_file = _place(fixtures_dir, tmp_path, "teleoperators/so_leader/arm1.json")
    with pytest.raises(CalibrationNotFoundError, match=rf"leader calibration with this id at {leader_file}"):
        load_calibration(FOLLOWER, "arm1", env=_env(tmp_path))


@pytest.mark.parametrize(
    "relative",
    ["teleoperators/so_leader/arm1.json", "teleoperators/so101_leader/arm1.json", "teleoperators/custom/arm1.json"],
)
def test_an_explicit_file_in_the_other_roles_folder_is_refused(fixtures_dir, tmp_path, relative):
    path = _place(fixtures_dir, tmp_path, relative)
    with pytest.raises(WrongCalibrationError, match=r"is in a leader folder .* a follower calibration was asked for"):
        load_calibration(FOLLOWER, "arm1", path)


def test_an_explicit_directory_of_the_other_role_is_refused(fixtures_dir, tmp_path):
    _place(fixtures_dir, tmp_path, "robots/so_follower/arm1.json")
    with pytest.raises(WrongCalibrationError, match="is in a follower folder"):
        locate_calibration(LEADER, "arm1", tmp_path / "robots/so_follower")


def test_a_file_named_after_another_arm_is_refused(fixtures_dir, tmp_path):
    path = _place(fixtures_dir, tmp_path, "robots/so_follower/other_arm.json")
    with pytest.raises(WrongCalibrationError, match=r"calibration of arm 'other_arm' .* not of arm 'arm1'"):
        load_calibration(FOLLOWER, "arm1", path)


@pytest.mark.parametrize(
    "path,role",
    [
        ("/c/robots/so_follower/a.json", FOLLOWER),
        ("/c/robots/so101_follower/a.json", FOLLOWER),
        ("/c/teleoperators/so_leader/a.json", LEADER),
        ("/c/teleoperators/anything/a.json", LEADER),
        ("/c/robots/a.json", FOLLOWER),
        ("/home/me/cal/a.json", None),
    ],
)
def test_role_of_path(path, role):
    assert role_of_path(path) is role


@pytest.mark.parametrize("arm_id", ["", ".", "..", "a/b", ".hidden"])
def test_arm_ids_must_be_file_names(arm_id):
    with pytest.raises(ValueError, match="cannot be a file name"):
        check_arm_id(arm_id)
