"""Where LeRobot keeps an arm's calibration file, and which role and arm a file belongs to.

LeRobot's layout (docs/reference/lerobot.md §2): `<root>/<robots|teleoperators>/<Robot.name>/<id>.json`,
root from $HF_LEROBOT_CALIBRATION, else $HF_LEROBOT_HOME/calibration, else
$HF_HOME/lerobot/calibration (huggingface_hub's HF_HOME defaults to $XDG_CACHE_HOME/huggingface,
i.e. ~/.cache/huggingface). Robot.name was `so101_follower`/`so101_leader` up to LeRobot 0.4.2 and
is `so_follower`/`so_leader` from 0.4.3, so both folders are searched, the current one first.

The files hold no role: the folder is the role, the file name is the arm id. A file is refused
when its folder says the other role or its name another arm, because loading a leader's
calibration for a follower would command the follower with the leader's offsets.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from so101_calibration.calibration import ArmCalibration
from so101_calibration.errors import AmbiguousCalibrationError, CalibrationNotFoundError, WrongCalibrationError
from so101_calibration.lerobot_json import read_calibration_file
from so101_calibration.roles import ArmRole

CALIBRATION_SUFFIX = ".json"
CATEGORY_FOLDER: Mapping[ArmRole, str] = {ArmRole.FOLLOWER: "robots", ArmRole.LEADER: "teleoperators"}
ARM_FOLDERS: Mapping[ArmRole, tuple[str, ...]] = {
    ArmRole.FOLLOWER: ("so_follower", "so101_follower"),  # LeRobot ≥ 0.4.3, then ≤ 0.4.2
    ArmRole.LEADER: ("so_leader", "so101_leader"),
}


@dataclass(frozen=True)
class CalibrationLocation:
    """Where one arm's calibration is read from and written to.

    existing: the file to read, or None for an arm not calibrated yet.
    targets:  every file a new calibration replaces. Both LeRobot folders when both hold (identical)
              copies, so neither goes stale for the LeRobot version that reads it.
    searched: where the file was looked for (for error messages).
    """

    role: ArmRole
    arm_id: str
    existing: Path | None
    targets: tuple[Path, ...]
    searched: tuple[Path, ...]


def calibration_root(env: Mapping[str, str] | None = None) -> Path:
    """LeRobot's calibration root for this environment (os.environ unless `env` is given)."""
    env = os.environ if env is None else env
    if "HF_LEROBOT_CALIBRATION" in env:
        return Path(env["HF_LEROBOT_CALIBRATION"]).expanduser()
    if "HF_LEROBOT_HOME" in env:
        return Path(env["HF_LEROBOT_HOME"]).expanduser() / "calibration"
    cache = env.get("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache"))
    hf_home = env.get("HF_HOME", os.path.join(cache, "huggingface"))
    return Path(os.path.expandvars(hf_home)).expanduser() / "lerobot" / "calibration"


def role_of_path(path: str | Path) -> ArmRole | None:
    """The role a calibration file's folders say it belongs to; None when they do not say.

    The arm folder (so_follower, so101_leader, ...) decides; else the category folder (robots,
    teleoperators) just above it.
    """
    parents = Path(path).parent.parts[-2:]
    for folder in reversed(parents):
        for role in ArmRole:
            if folder in ARM_FOLDERS[role] or folder == CATEGORY_FOLDER[role]:
                return role
    return None


def check_arm_id(arm_id: str) -> str:
    """An arm id is a file name (LeRobot's `<id>.json`); ValueError if it cannot be one."""
    if not arm_id or arm_id in (".", "..") or "/" in arm_id or "\0" in arm_id or arm_id.startswith("."):
        raise ValueError(f"arm id {arm_id!r} cannot be a file name; use letters, digits, '-' or '_'")
    return arm_id


def locate_calibration(
    role: ArmRole, arm_id: str, path: str | Path | None = None, env: Mapping[str, str] | None = None
) -> CalibrationLocation:
    """Where the calibration of `role` arm `arm_id` is.

    `path` is optional: a `.json` file, or a directory holding `<arm_id>.json` (LeRobot's
    calibration_dir). Without it, LeRobot's default folders are searched.
    Raises WrongCalibrationError for a path that belongs to the other role or another arm, and
    AmbiguousCalibrationError when both LeRobot folders hold different files for this arm.
    """
    check_arm_id(arm_id)
    if path is not None:
        file = _explicit_file(role, arm_id, Path(path))
        return CalibrationLocation(role, arm_id, file if file.is_file() else None, (file,), (file,))
    candidates = default_candidates(role, arm_id, env)
    found = [candidate for candidate in candidates if candidate.is_file()]
    if len(found) > 1 and len({candidate.read_bytes() for candidate in found}) > 1:
        raise AmbiguousCalibrationError(
            f"two different calibrations for {role.value} arm {arm_id!r}: {found[0]} (LeRobot ≥ 0.4.3) and "
            f"{found[1]} (LeRobot ≤ 0.4.2). Delete the stale one, or pass the right file explicitly."
        )
    return CalibrationLocation(role, arm_id, found[0] if found else None, tuple(found) or (candidates[0],), candidates)


def default_candidates(role: ArmRole, arm_id: str, env: Mapping[str, str] | None = None) -> tuple[Path, ...]:
    """LeRobot's default files for this arm: current folder name first, then the ≤ 0.4.2 one."""
    root = calibration_root(env) / CATEGORY_FOLDER[role]
    return tuple(root / folder / f"{arm_id}{CALIBRATION_SUFFIX}" for folder in ARM_FOLDERS[role])


def load_calibration(
    role: ArmRole, arm_id: str, path: str | Path | None = None, env: Mapping[str, str] | None = None
) -> tuple[ArmCalibration, Path]:
    """Find, read and validate an arm's calibration; returns it and the file it came from.

    Raises CalibrationNotFoundError (listing where it looked, and pointing at a file of the same
    id under the other role, the usual cause), or any error of locate_calibration / the parser.
    """
    location = locate_calibration(role, arm_id, path, env)
    if location.existing is None:
        hint = _other_role_hint(role, arm_id, env) if path is None else ""
        raise CalibrationNotFoundError(f"{role.value} arm {arm_id!r}", location.searched, hint)
    return read_calibration_file(location.existing), location.existing


def _explicit_file(role: ArmRole, arm_id: str, path: Path) -> Path:
    file = path if path.suffix == CALIBRATION_SUFFIX else path / f"{arm_id}{CALIBRATION_SUFFIX}"
    folder_role = role_of_path(file)
    if folder_role is not None and folder_role is not role:
        raise WrongCalibrationError(
            f"{file} is in a {folder_role.value} folder ({file.parent}), but a {role.value} calibration was asked "
            f"for. Is the role right? A {role.value}'s file lives under {CATEGORY_FOLDER[role]}/"
            f"{ARM_FOLDERS[role][0]}/."
        )
    if file.stem != arm_id:
        raise WrongCalibrationError(
            f"{file} is the calibration of arm {file.stem!r} (LeRobot names the file after the arm id), "
            f"not of arm {arm_id!r}. Is the id right?"
        )
    return file


def _other_role_hint(role: ArmRole, arm_id: str, env: Mapping[str, str] | None) -> str:
    other = ArmRole.LEADER if role is ArmRole.FOLLOWER else ArmRole.FOLLOWER
    elsewhere = [p for p in default_candidates(other, arm_id, env) if p.is_file()]
    if not elsewhere:
        return ""
    return (
        f"There is a {other.value} calibration with this id at {elsewhere[0]}; it is never used for a "
        f"{role.value}. Check the role, or calibrate the {role.value} with so101-calibrate."
    )
