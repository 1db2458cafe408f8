"""Benchmark: MimicGen on the MuJoCo twin (so101-mimicgen) from the demo's seed demos, on this machine's CPUs.

Run as `python benchmarks/mimicgen_throughput.py`. The seeds are `so101 demo`'s: the scripted
pick-and-place recorded in the twin as the demo records it (leisaac profile, 60 rows/s from a
4 fps recording, the demo's task; so101_bringup.demo.scripted_seeds), --seeds demos of them, or a
file given with --seed-file (e.g. out/demo/latest/demos/so101_demos.hdf5). The task is the demo's
as it ships: both objects randomized by ±3 cm in x and y, the cube (which the jaws must meet
square) also by ±30° in yaw; with Isaac Lab's generation_guarantee off, so a run is exactly
--trials trials.

One run, three generations of the same seed:
1. --trials trials without cameras, 1 worker process (in-process);
2. the same trials without cameras, 2 worker processes: the same demos (deterministic per seed),
   so their speed-up over 1 is measured on identical work; success rate and demos per minute
   without cameras are this run's;
3. --camera-demos successful demos with two 320x240 cameras (wrist and front, each rendering a
   new frame --camera-fps times a second, LeIsaac's 30 by default), 2 workers.

Demos per minute count the successful demos written (trials, rendering and the HDF5 file; not
the LeRobot copy, made once at the end, nor the checks before the first trial). Goals (issue
13): success rate ≥ 60 %, ≥ 10 successful demos per seed demo, ≥ 1 demo per minute with two
cameras on 2 cores (Isaac Lab Mimic on an RTX GPU: about 2 minutes per demo). Prints a table,
then one JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

import yaml

SIZE = (240, 320)
"""(height, width): the issue's 320x240 cameras."""
CAMERAS = ("wrist", "front")
SPREAD_M = 0.03
SPREAD_YAW_RAD = 0.5236
GOALS = {"success_rate": 0.6, "successful_per_seed": 10.0, "demos_per_min_cameras": 1.0}


def benchmark_task(folder: Path) -> Path:
    """The demo's task (the cube at ±3 cm and ±30°, the block at ±3 cm), every trial counted (no guarantee)."""
    from so101_sim_bridge.tasks import DEMO_TASK, task_text

    data = yaml.safe_load(task_text(DEMO_TASK)[0])
    position = {"x": [-SPREAD_M, SPREAD_M], "y": [-SPREAD_M, SPREAD_M]}
    data["randomization"] = {"red_cube": {**position, "yaw": [-SPREAD_YAW_RAD, SPREAD_YAW_RAD]}, "blue_block": position}
    data["datagen"]["generation_guarantee"] = False
    data["datagen"]["max_num_failures"] = 0
    path = folder / "benchmark_task.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def run(seed_file: Path, task: Path, out: Path, trials: int, workers: int, cameras: tuple[str, ...],
        camera_fps: int | None = None, guarantee_demos: int | None = None):
    from so101_sim_bridge.mimicgen import GenerationConfig, generate

    config = GenerationConfig(
        seeds=(seed_file,), out=out, num_demos=guarantee_demos or trials, task=str(task), workers=workers,
        seed=1, cameras=cameras, image_size=SIZE, camera_fps=camera_fps, lerobot=False, show_progress=False,
    )
    return generate(config, say=lambda line: None)


def camera_task(task: Path) -> Path:
    """The benchmark task with generation_guarantee: the camera run stops after --camera-demos successes."""
    data = yaml.safe_load(task.read_text())
    data["datagen"]["generation_guarantee"] = True
    path = task.with_name("benchmark_task_cameras.yaml")
    path.write_text(yaml.safe_dump(data))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--camera-demos", type=int, default=4)
    parser.add_argument("--camera-fps", type=int, default=30)
    parser.add_argument("--seeds", type=int, default=3, help="seed demos to record (without --seed-file)")
    parser.add_argument("--seed-file", type=Path, help="use these seed demos (e.g. a `so101 demo` run's HDF5 file)")
    args = parser.parse_args()

    from so101_bringup.demo.scripted_seeds import record_scripted_seeds
    from so101_sim_bridge.mimicgen.sources import load_seeds

    with tempfile.TemporaryDirectory(prefix="mimicgen_bench_") as tmp:
        folder = Path(tmp)
        seed_file = args.seed_file or record_scripted_seeds(folder / "seeds.hdf5", args.seeds)
        task = benchmark_task(folder)
        seed_demos = len(load_seeds([seed_file], str(task)).demos)
        one = run(seed_file, task, folder / "one_worker", args.trials, 1, ())
        two = run(seed_file, task, folder / "two_workers", args.trials, 2, ())
        cameras = run(seed_file, camera_task(task), folder / "cameras", args.trials * 4, 2, CAMERAS, args.camera_fps,
                      guarantee_demos=args.camera_demos)
    if one.tally.successes != two.tally.successes:
        raise SystemExit(f"1 and 2 workers disagree ({one.tally.successes} vs {two.tally.successes} successes): "
                         "generation is meant to be deterministic per seed")
    tally = two.tally
    figures = {
        "benchmark": "mimicgen_throughput",
        "cpus": os.cpu_count(),
        "seed_demos": seed_demos,
        "trials": tally.trials,
        "successes": tally.successes,
        "success_rate": round(tally.success_rate, 3),
        "successful_per_seed": round(tally.successes / seed_demos, 2),
        "failures_per_subtask": json.dumps(tally.failures_per_subtask),
        "demos_per_min_no_cameras": round(two.demos_per_min, 2),
        "demos_per_min_no_cameras_1_worker": round(one.demos_per_min, 2),
        "trials_per_min_1_worker": round(60 * one.tally.trials / one.seconds, 2),
        "trials_per_min_2_workers": round(60 * tally.trials / two.seconds, 2),
        "speedup_2_workers": round(one.seconds / two.seconds, 2),
        "demos_per_min_cameras": round(cameras.demos_per_min, 2),
        "camera_demos": cameras.generated,
        "camera_trials": cameras.tally.trials,
        "camera_fps": args.camera_fps,
        "cameras": f"{'+'.join(CAMERAS)} {SIZE[1]}x{SIZE[0]}",
    }
    print(f"MimicGen on the MuJoCo twin: {seed_demos} seed demos, objects ±{SPREAD_M * 100:.0f} cm, the cube "
          f"±{SPREAD_YAW_RAD * 180 / 3.14159:.0f}°, {os.cpu_count()} CPUs")
    print(f"{'figure':34s} {'value':>10s} {'goal':>8s}")
    for key in ("trials", "success_rate", "successful_per_seed", "demos_per_min_no_cameras",
                "demos_per_min_no_cameras_1_worker", "speedup_2_workers", "demos_per_min_cameras"):
        goal = f">= {GOALS[key]:g}" if key in GOALS else ""
        print(f"{key:34s} {figures[key]:>10} {goal:>8s}")
    print(f"failures per subtask: {tally.failures_per_subtask or 'none'}; camera run: {cameras.generated} demos from "
          f"{cameras.tally.trials} trials, {figures['cameras']} at {args.camera_fps} fps, 2 workers")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
