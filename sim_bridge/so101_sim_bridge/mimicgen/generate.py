"""A generation run: checks, trials on the executors, demos written in trial order, the LeRobot copy and the report.

    summary = generate(GenerationConfig(seeds=(Path("seeds.hdf5"),), out=Path("out"), num_demos=10,
                                        calibration=Path("follower.json")))

Order of work:
1. everything that can be wrong with the input is checked first (the task's objects in the
   twin's scene, the seed files, the settings, an existing output folder, the reach of the
   randomization ranges: checks.py, sources.py, config.py, output.py), so bad input fails in
   seconds with a message;
2. trials are handed to the executor (executors.py) in index order, `workers` jobs at a time;
   results come back in any order and are decided in index order: a success (or a failure,
   with keep_failed) is kept, rendered (if cameras are asked for: only kept trials are rendered)
   and written as the next demo, a failure is noted in trials.jsonl (output.py);
3. generation stops when the target is reached (num_demos successes with Isaac Lab's
   generation_guarantee, else num_demos trials) or after max_failures failures (0: no cap);
   trials already running past that point are dropped. The demos are thus always the first
   successful trials by index: the same for a seed whatever the number of workers, the executor
   or a kill and --resume in between;
4. the LeRobot v3 copy is made from the HDF5 file by the dataset tool's converter
   (datasets.to_lerobot), then the report (report.py).
"""
from __future__ import annotations

import shutil
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field, replace
from itertools import count
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from so101_calibration import CalibrationError, read_calibration_file
from so101_sim_bridge.datasets import DatasetError, hdf5_to_lerobot
from so101_sim_bridge.mimicgen.checks import check_reachable, check_scene
from so101_sim_bridge.mimicgen.config import GenerationConfig, GenerationPlan, plan
from so101_sim_bridge.mimicgen.errors import MimicGenError
from so101_sim_bridge.mimicgen.executors import InProcess, LocalProcesses, RayCluster
from so101_sim_bridge.mimicgen.ik import So101Ik
from so101_sim_bridge.mimicgen.manifest import generation_manifest, with_outcome
from so101_sim_bridge.mimicgen.output import GeneratedDemos, check_resumable, finished_trials
from so101_sim_bridge.mimicgen.report import write_report
from so101_sim_bridge.mimicgen.sources import SeedDemos, load_seeds, seed_task
from so101_sim_bridge.mimicgen.trial import TrialResult, TrialSetup
from so101_sim_bridge.provenance import ProvenanceError, load_user_fields, write_hdf5_provenance
from so101_sim_bridge.twin import MujocoTwin, TwinConfig

Say = Callable[[str], None]
DONE = "done"
TOO_MANY_FAILURES = "max_failures"


@dataclass
class Tally:
    """Trials decided so far (a resumed run starts from the previous run's)."""

    trials: int = 0
    successes: int = 0
    kept: int = 0
    failures_per_subtask: dict[str, int] = field(default_factory=dict)

    @property
    def failures(self) -> int:
        return self.trials - self.successes

    @property
    def success_rate(self) -> float:
        return self.successes / self.trials if self.trials else 0.0

    def add(self, record: dict[str, Any]) -> None:
        self.trials += 1
        if record["success"]:
            self.successes += 1
        else:
            name = record["failed_subtask"]
            self.failures_per_subtask[name] = self.failures_per_subtask.get(name, 0) + 1


@dataclass(frozen=True)
class GenerationSummary:
    tally: Tally
    stopped: str
    """DONE, or TOO_MANY_FAILURES."""
    generated: int
    """Demos written by this run (a resumed run: not counting the earlier ones)."""
    seconds: float
    """Trials, rendering and writing of this run (not the checks, not the LeRobot copy)."""
    report: dict[str, Any]
    files: dict[str, str]

    @property
    def demos_per_min(self) -> float:
        return 60.0 * self.generated / self.seconds if self.seconds > 0 else 0.0


def generate(config: GenerationConfig, say: Say = print) -> GenerationSummary:
    task, _ = seed_task(config.seeds, config.task)
    with MujocoTwin(TwinConfig(cameras=())) as twin:
        check_scene(task, twin.object_names)
    seeds = load_seeds(config.seeds, config.task)
    run_plan = plan(config, seeds)
    check_resumable(config, run_plan.provenance())
    _check_reach(seeds)
    calibration = _calibration(config)
    try:
        user = load_user_fields(config.provenance_file)
    except ProvenanceError as exc:
        raise MimicGenError(f"provenance: {exc}") from None
    config.out.mkdir(parents=True, exist_ok=True)
    done = finished_trials(config) if config.resume else {}
    tally = Tally()
    for index in sorted(done):
        tally.add(done[index])
        tally.kept += int("demo" in done[index])
    for left_out in seeds.left_out:
        say(f"left out: {left_out}")
    say(f"so101-mimicgen: task {seeds.task.id}, {len(seeds.demos)} seed demo(s) at {seeds.fps} rows/s, "
        f"{run_plan.num_demos} demos wanted, seed {run_plan.seed}, cameras "
        f"{', '.join(f'{c.name} {c.width}x{c.height}' for c in run_plan.cameras) or 'none'}"
        + (f"; resuming after {tally.trials} trial(s), {tally.kept} demo(s)" if done else ""))
    setup = TrialSetup(
        task_yaml=seeds.task_yaml, task_source=seeds.task.source, sources=seeds.demos, fps=seeds.fps,
        start_joints=seeds.demos[0].initial_joints, mapping=seeds.mapping, run_seed=run_plan.seed,
        run_id=uuid.uuid4().hex, cameras=run_plan.cameras, camera_fps=run_plan.camera_fps,
    )
    output = GeneratedDemos(config, run_plan, seeds,
                            generation_manifest(config, run_plan, seeds, executor_name(config), user))
    started = time.perf_counter()
    kept_before = tally.kept
    try:
        executor = _executor(config, setup)
        try:
            stopped = _run(executor, run_plan, output, tally, set(done), config.show_progress)
        finally:
            executor.close()
    finally:
        output.close()
    seconds = time.perf_counter() - started
    files = {"hdf5": str(config.hdf5_path), "trials": str(config.trials_path)}
    if tally.kept and output.provenance is not None:
        outcome = {"trials": tally.trials, "successes": tally.successes, "kept": tally.kept, "stopped": stopped,
                   "failures_per_subtask": tally.failures_per_subtask}
        write_hdf5_provenance(config.hdf5_path, with_outcome(output.provenance, outcome))
    if config.lerobot and tally.successes:
        files["lerobot"] = str(_lerobot_copy(config, calibration, user))
    summary = GenerationSummary(tally, stopped, tally.kept - kept_before, seconds, {}, files)
    report = write_report(config, seeds, run_plan, summary, executor_name(config))
    return replace(summary, report=report, files={**files, "report_json": report["files"]["json"],
                                                  "report_png": report["files"]["png"]})


def executor_name(config: GenerationConfig) -> str:
    if config.ray_address:
        return "ray"
    return "processes" if config.workers > 1 else "in-process"


def _run(executor, run_plan: GenerationPlan, output: GeneratedDemos, tally: Tally, done: set[int],
         show_progress: bool) -> str:
    """Dispatch, decide in order, render, write (module doc); why it stopped."""
    pending: dict[Future, tuple[str, int]] = {}
    arrived: dict[int, TrialResult] = {}
    ready: dict[int, TrialResult] = {}
    dispatched: deque[int] = deque()
    to_write: deque[int] = deque()
    indices = (index for index in count() if index not in done)
    stopped = _stop_reason(run_plan, tally)
    # "{completed}/{total}" as text: rich's MofNCompleteColumn is newer than Humble's rich 11.
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), disable=not show_progress) as progress:
        bar = progress.add_task("", total=run_plan.num_demos, completed=_progress(run_plan, tally))
        while True:
            while stopped is None and len(pending) < executor.workers:
                index = next(indices)
                pending[executor.trial(index)] = ("trial", index)
                dispatched.append(index)
            if not pending:
                break
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                kind, index = pending.pop(future)
                (arrived if kind == "trial" else ready)[index] = future.result()
            while stopped is None and dispatched and dispatched[0] in arrived:
                result = arrived.pop(dispatched.popleft())
                tally.add(result.record())
                if result.success or run_plan.keep_failed:
                    to_write.append(result.index)
                    if run_plan.cameras:
                        pending[executor.render(result)] = ("render", result.index)
                    else:
                        ready[result.index] = result
                else:
                    output.skip(result)
                stopped = _stop_reason(run_plan, tally)
            if stopped is not None:  # trials past the target: not needed
                for future in [f for f, (kind, _) in pending.items() if kind == "trial"]:
                    future.cancel()
                    del pending[future]
            while to_write and to_write[0] in ready:
                output.keep(ready.pop(to_write.popleft()))
                tally.kept += 1
            progress.update(bar, completed=_progress(run_plan, tally), description=(
                f"MimicGen: {tally.kept} demos, {tally.trials} trials, {tally.success_rate:.0%} success"))
    return stopped


def _progress(run_plan: GenerationPlan, tally: Tally) -> int:
    return min(run_plan.num_demos, tally.successes if run_plan.guarantee else tally.trials)


def _stop_reason(run_plan: GenerationPlan, tally: Tally) -> str | None:
    if _progress(run_plan, tally) >= run_plan.num_demos:
        return DONE
    if run_plan.max_failures and tally.failures >= run_plan.max_failures:
        return TOO_MANY_FAILURES
    return None


def _executor(config: GenerationConfig, setup: TrialSetup):
    if config.ray_address:
        return RayCluster(setup, config.ray_address, config.workers if config.workers > 1 else None)
    if config.workers > 1:
        return LocalProcesses(setup, config.workers)
    return InProcess(setup)


def _check_reach(seeds: SeedDemos) -> None:
    with MujocoTwin(TwinConfig(cameras=())) as twin:
        nominal = twin.object_poses()  # where the scene file puts them: what the randomization moves
    check_reachable(seeds, nominal, So101Ik())


def _calibration(config: GenerationConfig):
    if not config.lerobot:
        return None
    try:
        return read_calibration_file(config.calibration)
    except CalibrationError as exc:
        raise MimicGenError(f"--calibration {config.calibration}: {exc}") from None


def _lerobot_copy(config: GenerationConfig, calibration, user) -> Path:
    """The LeRobot v3 copy of the successful demos, made anew from the HDF5 file (a resumed run replaces it)."""
    if config.lerobot_path.exists():
        shutil.rmtree(config.lerobot_path)
    try:
        hdf5_to_lerobot(config.hdf5_path, config.lerobot_path, calibration, video_codec=config.video_codec,
                        calibration_file=config.calibration, user=user, show_progress=config.show_progress)
    except DatasetError as exc:
        raise MimicGenError(f"LeRobot copy: {exc}") from None
    return config.lerobot_path
