"""Task specs: a manipulation task as data, in Isaac Lab Mimic's vocabulary (docs/reference/datasets-mimic.md §3).

A spec (YAML, format in specs/so101_pick_red_cube.yaml) says what the recorder and the dataset
tools need to turn a recording into a file Isaac Lab Mimic can multiply, and what a generator
needs to multiply it:

- `env_name`: the Isaac task's gym id, recorded as env_args.env_name;
- `scene`: the robot root's pose in the task's env frame and which twin object is which rigid
  object of the Isaac scene (Isaac Lab resets by those names);
- `subtasks` of the end effector `eef_name`: SubTaskConfig's fields, plus the `term` rule that
  makes each subtask_term_signal from the recording (annotation.py);
- `datagen`: DataGenConfig's fields; `randomization`: object pose offsets per reset;
- `success`: the task's success term (an object resting on another, gripper open).

Everything is checked when the spec is loaded, with the file and the field in the message.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import yaml

SPECS_PACKAGE = "so101_sim_bridge.tasks"
SPECS_FOLDER = "specs"
SELECTION_STRATEGIES = ("random", "nearest_neighbor_object", "nearest_neighbor_robot_distance")
"""Isaac Lab Mimic's source-demo selection strategies."""
TERM_RULES = ("grasped", "released")


class TaskSpecError(ValueError):
    """A task spec that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class TermRule:
    """How a subtask's end shows in a recording, from the grasp point (twin.kinematics) and the gripper.

    grasped:  gripper closed below `gripper_below_rad` with the grasp point within `within_m` of `object`;
    released: gripper opened above `gripper_above_rad` with the grasp point within `within_m` of `object`.
    """

    rule: str
    object: str
    within_m: float
    gripper_below_rad: float | None = None
    gripper_above_rad: float | None = None

    def __post_init__(self) -> None:
        if self.rule not in TERM_RULES:
            raise ValueError(f"rule {self.rule!r} unknown; rules are {', '.join(TERM_RULES)}")
        if not (math.isfinite(self.within_m) and self.within_m > 0):
            raise ValueError(f"within_m must be a positive distance, got {self.within_m}")
        needed = "gripper_below_rad" if self.rule == "grasped" else "gripper_above_rad"
        if getattr(self, needed) is None:
            raise ValueError(f"a {self.rule} rule needs {needed}")


@dataclass(frozen=True)
class SubtaskSpec:
    """One entry of Isaac Lab Mimic's subtask_configs[eef] (SubTaskConfig fields and defaults), plus `term`."""

    name: str
    object_ref: str | None = None
    subtask_term_signal: str | None = None
    term: TermRule | None = None
    subtask_term_offset_range: tuple[int, int] = (0, 0)
    selection_strategy: str = "random"
    selection_strategy_kwargs: Mapping[str, Any] = field(default_factory=dict)
    action_noise: float = 0.03
    num_interpolation_steps: int = 5
    num_fixed_steps: int = 0
    apply_noise_during_interpolation: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "subtask_term_offset_range", tuple(self.subtask_term_offset_range))
        object.__setattr__(self, "selection_strategy_kwargs", MappingProxyType(dict(self.selection_strategy_kwargs)))
        low, high = self.subtask_term_offset_range
        if not 0 <= low <= high:
            raise ValueError(f"subtask_term_offset_range must be (low, high) with 0 <= low <= high, got {(low, high)}")
        if self.selection_strategy not in SELECTION_STRATEGIES:
            raise ValueError(f"selection_strategy {self.selection_strategy!r} unknown; use {SELECTION_STRATEGIES}")
        if (self.subtask_term_signal is None) != (self.term is None):
            raise ValueError("a subtask_term_signal needs a term rule that makes it, and a term needs a signal name")
        if self.action_noise < 0 or self.num_interpolation_steps < 0 or self.num_fixed_steps < 0:
            raise ValueError("action_noise, num_interpolation_steps and num_fixed_steps must be >= 0")


@dataclass(frozen=True)
class DataGenSpec:
    """Isaac Lab Mimic's DataGenConfig fields (its defaults)."""

    generation_num_trials: int = 10
    generation_guarantee: bool = True
    generation_keep_failed: bool = False
    max_num_failures: int = 50
    generation_select_src_per_subtask: bool = False
    generation_transform_first_robot_pose: bool = False
    generation_interpolate_from_last_target_pose: bool = True
    seed: int = 1


@dataclass(frozen=True)
class ObjectRandomization:
    """Uniform offsets (m, rad) added to an object's nominal pose at each reset; (0, 0) keeps it."""

    x: tuple[float, float] = (0.0, 0.0)
    y: tuple[float, float] = (0.0, 0.0)
    yaw: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self) -> None:
        for name in ("x", "y", "yaw"):
            low, high = getattr(self, name)
            if not (math.isfinite(low) and math.isfinite(high) and low <= high):
                raise ValueError(f"{name} must be a range [low, high], got {(low, high)}")
            object.__setattr__(self, name, (float(low), float(high)))


@dataclass(frozen=True)
class SuccessSpec:
    """Success: `object` rests on `on_object` (centre within xy_within_m, height_above_m above it), gripper opened."""

    object: str
    on_object: str
    xy_within_m: float
    height_above_m: tuple[float, float]
    gripper_above_rad: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "height_above_m", tuple(self.height_above_m))


@dataclass(frozen=True)
class SceneSpec:
    robot_root_pose: tuple[float, ...] = (0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0)
    """The robot root in the Isaac task's env frame, [x, y z, qw, qx, qy, qz] (LeIsaac PickOrange:
    (2.2, −0.61, 0.89, 0, 0, 0, 1)); recorded as every root_pose of the robot."""
    objects: Mapping[str, str] = field(default_factory=dict)
    """Twin object name → the rigid object's name in the Isaac scene (HDF5 and datagen_info keys)."""

    def __post_init__(self) -> None:
        pose = tuple(float(v) for v in self.robot_root_pose)
        if len(pose) != 7 or not all(math.isfinite(v) for v in pose) or np.linalg.norm(pose[3:]) < 1e-6:
            raise ValueError(f"robot_root_pose must be [x, y, z, qw, qx, qy, qz], got {self.robot_root_pose}")
        object.__setattr__(self, "robot_root_pose", pose)
        object.__setattr__(self, "objects", MappingProxyType(dict(self.objects)))
        if len(set(self.objects.values())) != len(self.objects):
            raise ValueError(f"two twin objects map to one Isaac name: {dict(self.objects)}")


@dataclass(frozen=True)
class TaskSpec:
    id: str
    env_name: str
    instruction: str
    scene: SceneSpec
    eef_name: str
    subtasks: tuple[SubtaskSpec, ...]
    datagen: DataGenSpec = DataGenSpec()
    randomization: Mapping[str, ObjectRandomization] = field(default_factory=dict)
    success: SuccessSpec | None = None
    step_hz: int = 60
    """The Isaac task's environment steps per second (Isaac Lab's default sim.dt 1/60, decimation 1):
    the row rate of the recorder's leisaac profile."""
    source: str = ""
    """Where the spec was read from (messages)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "subtasks", tuple(self.subtasks))
        object.__setattr__(self, "randomization", MappingProxyType(dict(self.randomization)))
        if not self.env_name:
            raise ValueError("env_name (the Isaac task's gym id) must not be empty")
        if isinstance(self.step_hz, bool) or not isinstance(self.step_hz, int) or not 1 <= self.step_hz <= 1000:
            raise ValueError(f"step_hz must be an integer rate in Hz, got {self.step_hz!r}")
        if not self.subtasks:
            raise ValueError("a task needs at least one subtask")
        if self.subtasks[-1].subtask_term_signal is not None or self.subtasks[-1].subtask_term_offset_range != (0, 0):
            raise ValueError("the last subtask ends with the demo: subtask_term_signal null, offset range [0, 0]")
        if any(s.subtask_term_signal is None for s in self.subtasks[:-1]):
            raise ValueError("every subtask but the last needs a subtask_term_signal")
        signals = self.signal_names
        if len(set(signals)) != len(signals):
            raise ValueError(f"subtask_term_signal names repeat: {signals}")
        known = set(self.scene.objects)
        used = {s.object_ref for s in self.subtasks if s.object_ref} | {s.term.object for s in self.subtasks if s.term}
        used |= set(self.randomization) | ({self.success.object, self.success.on_object} if self.success else set())
        if used - known:
            raise ValueError(f"object(s) {sorted(used - known)} are not in scene.objects {sorted(known)}")

    @property
    def signal_names(self) -> tuple[str, ...]:
        """The subtask_term_signals in subtask order (every subtask but the last has one)."""
        return tuple(s.subtask_term_signal for s in self.subtasks if s.subtask_term_signal is not None)

    @property
    def isaac_object_names(self) -> tuple[str, ...]:
        return tuple(self.scene.objects.values())

    def isaac_name(self, twin_object: str) -> str:
        return self.scene.objects[twin_object]


def shipped_task_ids() -> tuple[str, ...]:
    """The specs that ship with the package (specs/*.yaml), by id (their file stem)."""
    folder = resources.files(SPECS_PACKAGE).joinpath(SPECS_FOLDER)
    return tuple(sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")))


def load_task(reference: str | Path) -> TaskSpec:
    """A shipped spec by id (e.g. "so101_pick_red_cube") or a YAML file by path; TaskSpecError says what is wrong."""
    return task_from_yaml(*task_text(reference))


def task_text(reference: str | Path) -> tuple[str, str]:
    """The YAML text of a shipped spec or a spec file, and where it came from (what a process elsewhere loads)."""
    text_reference = str(reference)
    if text_reference in shipped_task_ids():
        resource = resources.files(SPECS_PACKAGE).joinpath(SPECS_FOLDER, f"{text_reference}.yaml")
        return resource.read_text(encoding="utf-8"), f"{text_reference} (shipped)"
    path = Path(reference)
    if not path.is_file():
        raise TaskSpecError(
            f"task {text_reference!r}: neither a shipped task ({', '.join(shipped_task_ids())}) nor a YAML file"
        )
    return path.read_text(encoding="utf-8"), str(path)


def task_from_yaml(text: str, source: str = "<string>") -> TaskSpec:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TaskSpecError(f"{source}: not YAML: {exc}") from None
    try:
        return _task(data, source)
    except (TypeError, ValueError, KeyError) as exc:
        raise TaskSpecError(f"{source}: {exc}") from None


def _task(data: Any, source: str) -> TaskSpec:
    if not isinstance(data, dict):
        raise ValueError("a task spec is a mapping (id, env_name, instruction, scene, eef_name, subtasks, ...)")
    _only(data, TaskSpec, "task spec", exclude={"source"})
    subtasks = []
    for i, entry in enumerate(data.get("subtasks") or []):
        try:
            _only(entry, SubtaskSpec, "subtask")
            term = entry.get("term")
            if term is not None:
                _only(term, TermRule, "term")
            subtasks.append(SubtaskSpec(**{**entry, "term": TermRule(**term) if term is not None else None}))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"subtasks[{i}]: {exc}") from None
    scene = data.get("scene") or {}
    _only(scene, SceneSpec, "scene")
    randomization = {}
    for name, ranges in (data.get("randomization") or {}).items():
        _only(ranges, ObjectRandomization, f"randomization.{name}")
        randomization[name] = ObjectRandomization(**{k: tuple(v) for k, v in ranges.items()})
    success = data.get("success")
    if success is not None:
        _only(success, SuccessSpec, "success")
    datagen = data.get("datagen") or {}
    _only(datagen, DataGenSpec, "datagen")
    missing = [key for key in ("id", "env_name", "eef_name", "subtasks") if key not in data]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    return TaskSpec(
        id=str(data["id"]),
        env_name=str(data["env_name"]),
        instruction=str(data.get("instruction", "")),
        scene=SceneSpec(**scene),
        eef_name=str(data["eef_name"]),
        subtasks=tuple(subtasks),
        datagen=DataGenSpec(**datagen),
        randomization=randomization,
        success=SuccessSpec(**success) if success is not None else None,
        step_hz=data.get("step_hz", 60),
        source=source,
    )


def _only(values: Any, cls: type, what: str, exclude: frozenset[str] | set[str] = frozenset()) -> None:
    if not isinstance(values, dict):
        raise ValueError(f"{what} must be a mapping")
    allowed = {f.name for f in fields(cls)} - set(exclude)
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"{what}: unknown field(s) {sorted(unknown)}; fields are {sorted(allowed)}")
