"""One generation trial on the MuJoCo twin: Isaac Lab Mimic's DataGenerator.generate (datasets-mimic.md §3).

A trial, given its index:

1. resets the twin: the robot at the seeds' start pose, each object at its scene pose moved by
   the task's randomization (tasks.randomized_poses);
2. draws every seed's subtask ends (each end plus a randint of its subtask_term_offset_range;
   each subtask starts where the previous one ended);
3. per subtask: picks a seed (selection.py; at the first subtask, or at each one with
   generation_select_src_per_subtask), takes the segment's target_eef_pose rows (prefixed by its
   measured eef_pose at the first subtask, or always with generation_transform_first_robot_pose)
   and gripper actions, carries the poses with the reference object (poses.transform_segment),
   bridges to them from the last target (generation_interpolate_from_last_target_pose) or the
   measured pose over num_interpolation_steps plus num_fixed_steps, adds action_noise to each
   pose (to the bridge only with apply_noise_during_interpolation), and executes one waypoint per
   row: inverse kinematics (ik.py) for the arm, the source's gripper action copied, the joint
   targets commanded to the twin, physics stepped 1/fps (the seeds' row rate);
4. checks the task's success term after the last row, and which subtask's term never held
   (its failure point), from the same term rules that annotate recordings.

Randomness comes from one generator seeded by (run seed, trial index), so a trial's result does
not depend on which process ran it or when. Joint targets are applied as the HDF5 file stores
them (float32 in the file's units), so replaying a generated demo's actions from its
initial_state in a fresh twin executes the same commands (replay_actions).
"""
from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from so101_calibration import JOINT_NAMES, SimMapping
from so101_sim_bridge.geometry import pose_to_matrix
from so101_sim_bridge.mimicgen.ik import IkConfig, So101Ik
from so101_sim_bridge.mimicgen.poses import add_pose_noise, interpolate_poses, transform_segment
from so101_sim_bridge.mimicgen.selection import select_source
from so101_sim_bridge.mimicgen.sources import SourceDemo
from so101_sim_bridge.tasks import TaskSpec, is_success, randomized_poses, task_from_yaml, term_signals
from so101_sim_bridge.twin import TWIN_JOINT_NAMES, MujocoTwin, TwinCameraConfig, TwinConfig

GRIPPER = JOINT_NAMES.index("gripper")


@dataclass(frozen=True, eq=False)
class TrialSetup:
    """What every worker needs to run trials; plain data, sent once to each process or Ray worker."""

    task_yaml: str
    task_source: str
    sources: tuple[SourceDemo, ...]
    fps: int
    start_joints: np.ndarray
    """(6,) physical radians: where the robot stands after each reset."""
    mapping: SimMapping
    """The output file's joint units: commands are applied as the file stores them."""
    run_seed: int = 0
    run_id: str = ""
    """Tells runs apart: a worker process keeps one TrialRunner per run."""
    cameras: tuple[TwinCameraConfig, ...] = ()
    camera_fps: int = 30
    ik: IkConfig = IkConfig()

    def task(self) -> TaskSpec:
        return task_from_yaml(self.task_yaml, self.task_source)


@dataclass(frozen=True, eq=False)
class TrialResult:
    """A trial's outcome and everything needed to write it as a demo (rows: T actions, T + 1 states)."""

    index: int
    seed: int
    success: bool
    failed_subtask: str | None
    """The first subtask whose term never held, or the last one when all held but success did not."""
    sources: tuple[str, ...]
    """Per subtask, the seed demo its segment came from."""
    object_poses: Mapping[str, np.ndarray]
    """The sampled start pose of each object (7,), robot root frame."""
    joints: np.ndarray
    velocities: np.ndarray
    actions: np.ndarray
    objects: Mapping[str, np.ndarray]
    """Object name → (T + 1, 7) poses."""
    physics: np.ndarray
    """(T + 1, nq) the twin's physics state at each row, to render it afterwards."""
    worst_ik_error_m: float
    seconds: float
    frames: Mapping[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    """Camera → (frames (K, H, W, 3) uint8, frame index of each row (T + 1,)), once rendered."""

    @property
    def rows(self) -> int:
        return len(self.actions)

    def record(self) -> dict:
        """The trial in a line of JSON (trials.jsonl and each demo's attributes)."""
        return {
            "trial": self.index, "seed": self.seed, "success": self.success, "failed_subtask": self.failed_subtask,
            "sources": list(self.sources), "rows": self.rows, "seconds": round(self.seconds, 3),
            "worst_ik_error_m": round(self.worst_ik_error_m, 5),
            "object_poses": {name: [round(float(v), 6) for v in pose] for name, pose in self.object_poses.items()},
        }


def trial_seed(run_seed: int, index: int) -> int:
    """The trial's own seed (stored as its demo's seed attribute): independent of worker and order."""
    return int(np.random.SeedSequence([run_seed, index]).generate_state(1)[0])


def as_stored(mapping: SimMapping, joints: np.ndarray) -> np.ndarray:
    """Joint radians as the HDF5 file gives them back: through its units and float32."""
    return mapping.from_sim(mapping.to_sim(joints).astype(np.float32))


def apply_action(twin: MujocoTwin, action: np.ndarray, dt_s: float) -> None:
    """Command one row's joint targets and step one row of physics.

    Unstamped, so the twin holds them as given, as Isaac Lab's PD drive takes its targets: with
    stamps its servo model would feed forward the velocity between consecutive targets, and the
    per-row action noise would kick the jaws (the velocity of noise)."""
    twin.set_targets(TWIN_JOINT_NAMES, action)
    twin.step(dt_s)


def replay_actions(twin: MujocoTwin, start_joints: np.ndarray, object_poses: Mapping[str, np.ndarray],
                   actions: np.ndarray, fps: int) -> None:
    """Execute a demo's actions (physical radians) from its start state, as a trial did."""
    twin.reset(start_joints, object_poses)
    for action in actions:
        apply_action(twin, action, 1.0 / fps)


class TrialRunner:
    """Runs trials (and renders the kept ones) in one process: one twin, one IK solver."""

    def __init__(self, setup: TrialSetup):
        self.setup = setup
        self.task = setup.task()
        self.twin = MujocoTwin(TwinConfig(cameras=setup.cameras))
        self.ik = So101Ik(config=setup.ik)
        self.twin.reset(setup.start_joints)
        self.nominal = self.twin.object_poses()
        """The objects where the scene file puts them: what the randomization moves."""

    def run(self, index: int) -> TrialResult:
        started = time.perf_counter()
        setup, task, twin = self.setup, self.task, self.twin
        seed = trial_seed(setup.run_seed, index)
        rng = np.random.default_rng(seed)
        poses = {name: pose.astype(np.float32).astype(np.float64)
                 for name, pose in randomized_poses(task, self.nominal, rng).items()}
        start = as_stored(setup.mapping, setup.start_joints)
        twin.reset(start, poses)
        ends = self._randomized_ends(rng)
        rows = _Rows()
        chosen: int | None = None
        names: list[str] = []
        last_target: np.ndarray | None = None
        command = start.copy()
        worst = 0.0
        datagen = task.datagen
        for i, subtask in enumerate(task.subtasks):
            eef_now = self.ik.kinematics.gripper_matrix(twin.state().position)
            object_now = pose_to_matrix(twin.object_poses()[subtask.object_ref]) if subtask.object_ref else None
            starts = [0 if i == 0 else int(e[i - 1]) for e in ends]
            if chosen is None or datagen.generation_select_src_per_subtask:
                chosen = self._select(subtask, rng, eef_now, object_now, starts)
            source = setup.sources[chosen]
            names.append(source.name)
            first, end = starts[chosen], int(ends[chosen][i])
            segment = source.target_eef_pose[first:end]
            gripper = source.gripper_action[first:end]
            if i == 0 or datagen.generation_transform_first_robot_pose:
                segment = np.concatenate([source.eef_pose[first:first + 1], segment])
                gripper = np.concatenate([gripper[:1], gripper])
            if object_now is not None:
                segment = transform_segment(object_now, source.object_pose[subtask.object_ref][first], segment)
            bridge_from = last_target if (i > 0 and datagen.generation_interpolate_from_last_target_pose) else eef_now
            bridge = np.concatenate([interpolate_poses(bridge_from, segment[0], subtask.num_interpolation_steps),
                                     np.repeat(segment[:1], subtask.num_fixed_steps, axis=0)])
            waypoints = [(pose, gripper[0], subtask.apply_noise_during_interpolation) for pose in bridge]
            waypoints += [(pose, grip, True) for pose, grip in zip(segment, gripper)]
            for pose, grip, noisy in waypoints:
                target = add_pose_noise(pose, subtask.action_noise, rng) if noisy else pose
                solution = self.ik.solve(target, command)
                worst = max(worst, solution.position_error_m)
                command = solution.joints.copy()
                command[GRIPPER] = grip
                command = as_stored(setup.mapping, command)
                rows.observe(twin)
                rows.actions.append(command)
                apply_action(twin, command, 1.0 / setup.fps)
            last_target = segment[-1]
        rows.observe(twin)
        result = rows.arrays()
        success = is_success(task, result["joints"][-1, GRIPPER], {n: p[-1] for n, p in result["objects"].items()})
        return TrialResult(
            index=index, seed=seed, success=success, failed_subtask=None if success else self._failed(result),
            sources=tuple(names), object_poses=poses, worst_ik_error_m=worst,
            seconds=time.perf_counter() - started, **result,
        )

    def render(self, result: TrialResult) -> TrialResult:
        """The result with its frames: each camera at camera_fps, each row showing the newest (sample and hold)."""
        setup = self.setup
        rows = len(result.physics)
        frame_of_row = np.floor(np.arange(rows) * min(setup.camera_fps, setup.fps) / setup.fps).astype(np.int64)
        rendered_rows = np.flatnonzero(np.r_[True, np.diff(frame_of_row) > 0])
        frames = {}
        for camera in setup.cameras:
            images = np.stack([self.twin.render(camera.name, result.physics[row]) for row in rendered_rows])
            frames[camera.name] = (images, frame_of_row - frame_of_row[0])
        return replace(result, frames=frames)

    def close(self) -> None:
        self.twin.close()

    def _randomized_ends(self, rng: np.random.Generator) -> list[np.ndarray]:
        """Each source's subtask ends with a random offset each (the last subtask ends with its demo)."""
        ranges = [subtask.subtask_term_offset_range for subtask in self.task.subtasks]
        ends = []
        for source in self.setup.sources:
            offsets = np.array([rng.integers(low, high + 1) for low, high in ranges])
            ends.append(np.minimum(np.asarray(source.subtask_ends) + offsets, len(source)))
        return ends

    def _select(self, subtask, rng: np.random.Generator, eef_now: np.ndarray, object_now: np.ndarray | None,
                starts: Sequence[int]) -> int:
        sources = self.setup.sources
        first_eef = [source.eef_pose[start] for source, start in zip(sources, starts)]
        first_object = ([source.object_pose[subtask.object_ref][start] for source, start in zip(sources, starts)]
                        if subtask.object_ref else None)
        return select_source(subtask.selection_strategy, subtask.selection_strategy_kwargs, rng, eef_now, object_now,
                             first_eef, first_object)

    def _failed(self, result: dict) -> str:
        """Where the trial failed: the first subtask whose term rule never held, else the last subtask."""
        signals = term_signals(self.task, self.ik.kinematics, result["joints"], result["objects"])
        for subtask in self.task.subtasks:
            if subtask.subtask_term_signal is not None and not signals[subtask.subtask_term_signal].any():
                return subtask.name
        return self.task.subtasks[-1].name


class _Rows:
    """The trial's rows as they are observed: joints, velocities, objects, physics state, actions."""

    def __init__(self) -> None:
        self.joints: list[np.ndarray] = []
        self.velocities: list[np.ndarray] = []
        self.objects: list[dict[str, np.ndarray]] = []
        self.physics: list[np.ndarray] = []
        self.actions: list[np.ndarray] = []

    def observe(self, twin: MujocoTwin) -> None:
        state = twin.state()
        self.joints.append(state.position)
        self.velocities.append(state.velocity)
        self.objects.append(twin.object_poses())
        self.physics.append(twin.physics_state())

    def arrays(self) -> dict:
        return {
            "joints": np.array(self.joints), "velocities": np.array(self.velocities),
            "actions": np.array(self.actions),
            "objects": {name: np.array([row[name] for row in self.objects]) for name in self.objects[0]},
            "physics": np.array(self.physics),
        }
