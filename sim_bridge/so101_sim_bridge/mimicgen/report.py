"""The run's report: report.json (the figures) and report.png (what they look like).

report.png has four panels: the sampled start pose of each randomized object, one dot per trial
(green: success, red: failure; a tick shows its yaw); failures per subtask (where each failed
trial went wrong: the first subtask whose term never held, else the last); and a few generated
demos' end-effector paths against the seed demos they were made from, seen from above and from
the side (generated: solid; seeds: dashed, same colour).
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import h5py
import matplotlib
import numpy as np

matplotlib.use("Agg")  # before pyplot: no display on a robot PC or in CI
import matplotlib.pyplot as plt  # noqa: E402

from so101_sim_bridge.mimicgen.config import REPORT_JSON, REPORT_PNG, GenerationConfig, GenerationPlan  # noqa: E402
from so101_sim_bridge.mimicgen.output import finished_trials  # noqa: E402
from so101_sim_bridge.mimicgen.sources import SeedDemos  # noqa: E402

if TYPE_CHECKING:
    from so101_sim_bridge.mimicgen.generate import GenerationSummary

TRAJECTORIES = 3
COLORS = ("tab:blue", "tab:orange", "tab:purple")


def write_report(config: GenerationConfig, seeds: SeedDemos, run_plan: GenerationPlan, summary: GenerationSummary,
                 executor: str) -> dict[str, Any]:
    """Write report.json and report.png into the output folder; the JSON's content."""
    records = [record for _, record in sorted(finished_trials(config).items())]
    tally = summary.tally
    report = {
        "task": seeds.task.id, "seed_files": [str(p) for p in seeds.files], "seed_demos": len(seeds.demos),
        "num_demos": run_plan.num_demos, "seed": run_plan.seed, "trials": tally.trials,
        "successes": tally.successes, "failures": tally.failures, "success_rate": round(tally.success_rate, 4),
        "successful_per_seed": round(tally.successes / len(seeds.demos), 3), "kept": tally.kept,
        "generated_this_run": summary.generated,
        "failures_per_subtask": {s.name: tally.failures_per_subtask.get(s.name, 0) for s in seeds.task.subtasks},
        "stopped": summary.stopped, "executor": executor, "workers": config.workers,
        "generation_seconds": round(summary.seconds, 2), "demos_per_min": round(summary.demos_per_min, 3),
        "cameras": [f"{c.name} {c.width}x{c.height}" for c in run_plan.cameras], "camera_fps": run_plan.camera_fps,
        "rows_per_s": seeds.fps,
        "files": {**summary.files, "json": str(config.out / REPORT_JSON), "png": str(config.out / REPORT_PNG)},
    }
    figure = report_figure(config, seeds, records)
    figure.savefig(config.out / REPORT_PNG, dpi=100)
    plt.close(figure)
    (config.out / REPORT_JSON).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


def report_figure(config: GenerationConfig, seeds: SeedDemos, records: list[dict[str, Any]]) -> plt.Figure:
    figure, axes = plt.subplots(2, 2, figsize=(13, 10))
    _object_poses(axes[0, 0], seeds, records)
    _failures(axes[0, 1], seeds, records)
    _trajectories(axes[1, 0], axes[1, 1], config, seeds, records)
    successes = sum(r["success"] for r in records)
    figure.suptitle(f"so101-mimicgen {seeds.task.id}: {successes} of {len(records)} trials succeeded "
                    f"from {len(seeds.demos)} seed demo(s)")
    figure.tight_layout()
    return figure


def _object_poses(ax, seeds: SeedDemos, records: list[dict[str, Any]]) -> None:
    markers = "osD^v<>"
    for k, name in enumerate(seeds.task.randomization):
        poses = np.array([r["object_poses"][name] for r in records]) if records else np.zeros((0, 7))
        success = np.array([r["success"] for r in records], dtype=bool)
        yaw = 2 * np.arctan2(poses[:, 6], poses[:, 3]) if len(poses) else np.zeros(0)
        for ok, color, label in ((True, "tab:green", "success"), (False, "tab:red", "failure")):
            chosen = success == ok
            ax.scatter(poses[chosen, 0], poses[chosen, 1], c=color, marker=markers[k % len(markers)], s=30,
                       label=f"{name}: {label} ({int(chosen.sum())})")
            ax.quiver(poses[chosen, 0], poses[chosen, 1], np.cos(yaw[chosen]), np.sin(yaw[chosen]), color=color,
                      scale=40, width=0.003, alpha=0.6)
    ax.set(title="sampled start poses (arrows: yaw)", xlabel="x (m, robot root frame)", ylabel="y (m)")
    ax.set_aspect("equal", adjustable="datalim")
    ax.legend(fontsize=8)


def _failures(ax, seeds: SeedDemos, records: list[dict[str, Any]]) -> None:
    names = [subtask.name for subtask in seeds.task.subtasks]
    counts = [sum(1 for r in records if not r["success"] and r["failed_subtask"] == name) for name in names]
    bars = ax.bar(range(len(names)), counts, color="tab:red")
    ax.bar_label(bars)
    ax.set_xticks(range(len(names)), names, rotation=15, fontsize=8)
    ax.set(title="failures per subtask (first subtask whose term never held)", ylabel="failed trials",
           ylim=(0, max(1, *counts) * 1.15))


def _trajectories(top, side, config: GenerationConfig, seeds: SeedDemos, records: list[dict[str, Any]]) -> None:
    top.set(title="end effector from above: generated (solid) vs seeds (dashed)", xlabel="x (m)", ylabel="y (m)")
    side.set(title="end effector from the side", xlabel="x (m)", ylabel="z (m)")
    kept = [r for r in records if r.get("demo") and r["success"]][:TRAJECTORIES]
    if not kept:
        return
    sources = {demo.name: demo for demo in seeds.demos}
    eef = f"obs/datagen_info/eef_pose/{seeds.task.eef_name}"
    with h5py.File(config.hdf5_path, "r") as file:
        for record, color in zip(kept, COLORS):
            path = file[f"data/{record['demo']}/{eef}"][:, :3, 3]
            top.plot(path[:, 0], path[:, 1], color=color, label=f"{record['demo']} (trial {record['trial']})")
            side.plot(path[:, 0], path[:, 2], color=color)
            for name in dict.fromkeys(record["sources"]):
                seed_path = sources[name].eef_pose[:, :3, 3]
                top.plot(seed_path[:, 0], seed_path[:, 1], color=color, linestyle="--", alpha=0.6,
                         label=f"  from {name}")
                side.plot(seed_path[:, 0], seed_path[:, 2], color=color, linestyle="--", alpha=0.6)
    top.legend(fontsize=7)
