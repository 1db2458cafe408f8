"""The generation step's provenance manifest (so101_sim_bridge.provenance): what a run was asked, from what.

The generated HDF5 file's manifest names the seed files as its sources (with their content hashes
and their own manifests, so the chain reaches the human seed demos), the task, the MuJoCo twin it
ran in, and the settings a reviewer needs to judge the data: the resolved plan (demos wanted,
seed, cameras, failure handling), the seed demos used and left out with why, each subtask's
selection strategy, noise, interpolation and offsets, the randomization ranges and the datagen
config. The outcome (trials, successes, demos kept, why the run stopped) is added once the run
ends; until then each saved demo rewrites the manifest without it (hdf5_writer), so a killed run
still has one.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from so101_sim_bridge.mimicgen.config import GenerationConfig, GenerationPlan
from so101_sim_bridge.mimicgen.sources import SeedDemos
from so101_sim_bridge.provenance import (
    GENERATION,
    Manifest,
    UserFields,
    mujoco_twin,
    new_manifest,
    source_of,
    task_reference,
)
from so101_sim_bridge.provenance.manifest import plain

TOOL = "so101-mimicgen"
SUBTASK_SETTINGS = ("object_ref", "subtask_term_signal", "subtask_term_offset_range", "selection_strategy",
                    "selection_strategy_kwargs", "action_noise", "num_interpolation_steps", "num_fixed_steps",
                    "apply_noise_during_interpolation")
"""Isaac Lab Mimic's SubTaskConfig fields, as the task spec gives them per subtask."""


def generation_manifest(config: GenerationConfig, run_plan: GenerationPlan, seeds: SeedDemos, executor: str,
                        user: UserFields) -> Manifest:
    """The manifest of `config`'s output before any trial runs (sources hashed now, as the run reads them)."""
    task = seeds.task
    settings = {
        "plan": run_plan.provenance(),
        "num_demos": run_plan.num_demos,
        "max_failures": run_plan.max_failures,
        "executor": executor,
        "workers": config.workers,
        "seed_demos": list(run_plan.sources),
        "left_out": list(seeds.left_out),
        "subtasks": [{"name": subtask.name, **{name: plain(getattr(subtask, name)) for name in SUBTASK_SETTINGS}}
                     for subtask in task.subtasks],
        "randomization": plain(task.randomization),
        "datagen": plain(task.datagen),
    }
    sources = tuple(source_of(path, config.hdf5_path, show_progress=config.show_progress) for path in config.seeds)
    return new_manifest(GENERATION, TOOL, settings, user=user, task=task_reference(task), sources=sources,
                        simulator=mujoco_twin())


def with_outcome(manifest: Manifest, outcome: Mapping[str, Any]) -> Manifest:
    """The manifest with the run's outcome (trials, successes, kept, stopped) added to its settings."""
    return replace(manifest, settings={**manifest.settings, "outcome": plain(outcome)})
