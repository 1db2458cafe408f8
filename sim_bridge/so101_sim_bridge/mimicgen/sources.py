"""Seed demos as Isaac Lab Mimic's DataGenInfoPool holds them (docs/reference/datasets-mimic.md §2, §3).

A seed file is an Isaac Lab HDF5 file with datagen_info and subtask signals, as the recorder
writes it with a task spec (or after `so101-dataset annotate`). Per demo, generation needs:

- eef_pose and target_eef_pose of the task's end effector and object_pose of each object,
  (T, 4, 4) in the robot root frame (the twin's world frame), from obs/datagen_info;
- the gripper actions (the last action column, back in physical radians through the file's
  recorded units), copied unchanged into generated demos;
- the subtask boundaries: subtask i ends one row after its signal's first rise (tasks.segment_ends,
  as generate_dataset.py cuts them), the last one with the demo.

Everything is checked here, before any trial runs: a file without annotations, or files that
disagree about the task, rate or units, raise MimicGenError naming the file, the demo and what to
do. Demos with success=False, and demos whose signals do not rise exactly once or leave no room
for the subtask offsets (a grasp that failed while recording), are left out with the reason, as
Isaac Lab's annotation drops them; no usable demo at all is an error listing why.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from so101_calibration import JOINT_NAMES, SimMapping
from so101_sim_bridge.datasets.errors import DatasetError
from so101_sim_bridge.datasets.isaaclab_file import demos, env_args_of, file_units, open_demo_file
from so101_sim_bridge.mimicgen.errors import MimicGenError
from so101_sim_bridge.tasks import TaskSpec, TaskSpecError, segment_ends, task_from_yaml, task_text
from so101_sim_bridge.twin import TWIN_CAMERAS

DATAGEN = "obs/datagen_info"
GRIPPER = JOINT_NAMES.index("gripper")
IK_ACTION_WIDTH = 8
"""[x, y, z, qw, qx, qy, qz, gripper]: actions after LeIsaac's eef_action_process.py --to_ik."""
INITIAL_JOINTS = "initial_state/articulation/robot/joint_position"
SAME_IN_EVERY_FILE = ("task", "fps", "profile", "joint_names", "sim_mapping")


@dataclass(frozen=True, eq=False)
class SourceDemo:
    """One seed demo's datagen_info, gripper actions and subtask boundaries."""

    name: str
    """<file name>:demo_<i>, as generated demos name their sources."""
    eef_pose: np.ndarray
    target_eef_pose: np.ndarray
    object_pose: Mapping[str, np.ndarray]
    """Twin object name → (T, 4, 4)."""
    gripper_action: np.ndarray
    """(T,) physical radians."""
    subtask_ends: tuple[int, ...]
    """Each subtask's end row (exclusive); the last subtask ends with the demo."""
    initial_joints: np.ndarray
    """(6,) physical radians: where the robot started."""

    def __len__(self) -> int:
        return len(self.target_eef_pose)


@dataclass(frozen=True, eq=False)
class SeedDemos:
    """The usable seed demos of one or more files that agree on task, rate and units."""

    task: TaskSpec
    task_yaml: str
    """The spec's text: what a worker process (or a Ray worker on another machine) loads the task from."""
    demos: tuple[SourceDemo, ...]
    files: tuple[Path, ...]
    env_args: Mapping[str, Any]
    """The first file's env_args (generated files record the same profile, units and rate)."""
    mapping: SimMapping
    """The files' joint units: sim = scale · rad + offset."""
    fps: int
    """Rows per second: generated demos execute one row per 1/fps of physics."""
    camera_fps: int
    """How often the seeds' cameras delivered a new frame (their recording rate, at most fps)."""
    cameras: tuple[str, ...]
    """The seeds' cameras the twin can render."""
    image_size: tuple[int, int] | None
    """(height, width) of the seeds' images; None without cameras."""
    instruction: str
    left_out: tuple[str, ...] = field(default=())
    """Demos not used, each with the reason."""


def seed_task(paths: Sequence[Path], task_reference: str | Path | None = None) -> tuple[TaskSpec, str]:
    """The task the seed files name (or `task_reference`, which overrides it), and its spec's text."""
    if not paths:
        raise MimicGenError("no seed file given")
    return _task(tuple(Path(p) for p in paths), [_env_args(Path(paths[0]))], task_reference)


def load_seeds(paths: Sequence[Path], task_reference: str | Path | None = None) -> SeedDemos:
    """Read and check every seed file (module doc); `task_reference` overrides the task the files name."""
    task, task_yaml = seed_task(paths, task_reference)
    paths = tuple(Path(p) for p in paths)
    env_args = [_env_args(path) for path in paths]
    first = env_args[0]
    for path, args in zip(paths[1:], env_args[1:]):
        for key in SAME_IN_EVERY_FILE:
            if args.get(key) != first.get(key):
                raise MimicGenError(
                    f"{path} has {key} {args.get(key)!r} but {paths[0]} has {first.get(key)!r}: seed files must share "
                    "task, rate and joint units (record them with the same recorder settings)"
                )
    fps = first.get("fps")
    if not isinstance(fps, int) or fps < 1:
        raise MimicGenError(f"{paths[0]}: env_args has no integer fps (rows per second); not a recorder file")
    try:
        units = file_units(first)
    except DatasetError as exc:
        raise MimicGenError(str(exc)) from None
    sources: list[SourceDemo] = []
    left_out: list[str] = []
    cameras: tuple[str, ...] = ()
    image_size = None
    instruction = task.instruction
    for path in paths:
        with open_demo_file(path) as file:
            for demo in demos(file):
                name = f"{path.name}:{demo.name.rpartition('/')[2]}"
                if not bool(demo.attrs.get("success", True)):
                    left_out.append(f"{name} (success=False)")
                    continue
                try:
                    sources.append(_source(demo, name, path, task, units))
                except UnusableDemo as exc:
                    left_out.append(str(exc))
                    continue
                if len(sources) == 1:
                    cameras, image_size = _cameras(demo, first)
                    instruction = str(demo.attrs.get("instruction", "")) or instruction
    if not sources:
        raise MimicGenError(f"no usable seed demo in {', '.join(map(str, paths))}: {'; '.join(left_out) or 'no demos'}")
    recorded = first.get("recorded_fps", fps)
    return SeedDemos(
        task=task, task_yaml=task_yaml, demos=tuple(sources), files=paths, env_args=dict(first),
        mapping=SimMapping(tuple(first.get("joint_names") or JOINT_NAMES), units.scale, units.offset), fps=fps,
        camera_fps=int(min(fps, recorded)) if isinstance(recorded, int) and recorded > 0 else fps, cameras=cameras,
        image_size=image_size, instruction=instruction, left_out=tuple(left_out),
    )


def _env_args(path: Path) -> dict[str, Any]:
    try:
        with open_demo_file(path) as file:
            return env_args_of(file)
    except DatasetError as exc:
        raise MimicGenError(str(exc)) from None


def _task(paths: tuple[Path, ...], env_args: list[dict], reference: str | Path | None) -> tuple[TaskSpec, str]:
    named = env_args[0].get("task")
    if reference is None and not named:
        raise MimicGenError(
            f"{paths[0]} does not say which task it records (env_args.task); pass --task SPEC.yaml or a shipped task id"
        )
    try:
        text, source = task_text(reference if reference is not None else named)
        return task_from_yaml(text, source), text
    except TaskSpecError as exc:
        raise MimicGenError(f"task spec: {exc}") from None


def _source(demo: h5py.Group, name: str, path: Path, task: TaskSpec, units) -> SourceDemo:
    eef = task.eef_name
    hint = f"annotate it first: so101-dataset annotate {path} --task {task.source.split(' ')[0] or task.id}"
    if DATAGEN not in demo:
        raise MimicGenError(f"{name} has no {DATAGEN} (the Mimic annotation generation starts from); {hint}")
    info = demo[DATAGEN]
    needed = [f"eef_pose/{eef}", f"target_eef_pose/{eef}",
              *(f"object_pose/{task.isaac_name(o)}" for o in task.scene.objects),
              *(f"subtask_term_signals/{s}" for s in task.signal_names)]
    missing = [key for key in needed if key not in info]
    if missing:
        raise MimicGenError(f"{name}: {DATAGEN} lacks {', '.join(missing)} (task {task.id}); {hint}")
    actions = demo["actions"][()]
    if actions.shape[1] == IK_ACTION_WIDTH:
        gripper = (actions[:, -1].astype(np.float64) - units.offset[GRIPPER]) / units.scale[GRIPPER]
    else:
        gripper = units.to_radians(actions)[:, GRIPPER]
    rows = len(actions)
    signals = {s: info[f"subtask_term_signals/{s}"][()].astype(bool) for s in task.signal_names}
    ends = _subtask_ends(name, task, signals, rows)
    initial = units.to_radians(demo[INITIAL_JOINTS][0] if INITIAL_JOINTS in demo else demo["obs/joint_pos"][0])
    return SourceDemo(
        name=name,
        eef_pose=info[f"eef_pose/{eef}"][()].astype(np.float64),
        target_eef_pose=info[f"target_eef_pose/{eef}"][()].astype(np.float64),
        object_pose={o: info[f"object_pose/{task.isaac_name(o)}"][()].astype(np.float64) for o in task.scene.objects},
        gripper_action=gripper,
        subtask_ends=ends,
        initial_joints=initial,
    )


class UnusableDemo(MimicGenError):
    """A demo whose subtask signals generation cannot cut (left out, as Isaac Lab's annotation drops it)."""


def _subtask_ends(name: str, task: TaskSpec, signals: Mapping[str, np.ndarray], rows: int) -> tuple[int, ...]:
    """generate_dataset.py's segment ends, with the checks it would fail on (§2), as messages."""
    for signal, values in signals.items():
        rises = np.flatnonzero(np.diff(values.astype(np.int8)) == 1)
        falls = np.flatnonzero(np.diff(values.astype(np.int8)) == -1)
        if values[0] or len(rises) != 1 or len(falls):
            raise UnusableDemo(
                f"{name}: subtask signal {signal} must start False and rise exactly once (it "
                f"{'starts True' if values[0] else f'rises {len(rises)} time(s) and falls {len(falls)}'}); "
                "re-annotate the demo (so101-dataset annotate) or leave it out"
            )
    ends = [*segment_ends(signals), rows]
    offsets = [subtask.subtask_term_offset_range for subtask in task.subtasks]
    for i in range(1, len(ends)):
        if ends[i - 1] + offsets[i - 1][1] >= ends[i] + offsets[i][0]:
            raise UnusableDemo(
                f"{name}: subtask {task.subtasks[i - 1].name!r} ends at row {ends[i - 1]} and "
                f"{task.subtasks[i].name!r} at row {ends[i]}: too close for the offset range "
                f"{list(offsets[i - 1])}; narrow subtask_term_offset_range or re-annotate"
            )
    return tuple(ends)


def _cameras(demo: h5py.Group, env_args: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[int, int] | None]:
    obs = demo.get("obs", {})
    images = [name for name in obs if isinstance(obs[name], h5py.Dataset) and obs[name].ndim == 4]
    recorded = [name for name in env_args.get("cameras", images) if name in images]
    renderable = tuple(name for name in recorded if name in TWIN_CAMERAS)
    size = tuple(int(v) for v in obs[renderable[0]].shape[1:3]) if renderable else None
    return renderable, size
