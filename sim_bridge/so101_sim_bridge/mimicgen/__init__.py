"""MimicGen on the embedded MuJoCo twin: seed demos in, many generated demos out, on a CPU (pure library).

Isaac Lab Mimic's algorithm and vocabulary (docs/reference/datasets-mimic.md §3): the task spec's
subtasks (object_ref, subtask_term_signal, subtask_term_offset_range, selection_strategy,
action_noise, num_interpolation_steps, num_fixed_steps) and datagen settings drive it; the seed
demos' datagen_info and subtask signals (recorded with the task) are its input. `so101-mimicgen`
is cli.py::

    summary = generate(GenerationConfig(seeds=(Path("so101_demos.hdf5"),), out=Path("out/mimicgen"),
                                        num_demos=30, calibration=Path("follower.json"), workers=2))

Modules: sources (seed loading and checks), poses (the pose algebra), ik (5-DoF inverse
kinematics), selection (source selection strategies), trial (one trial on the twin), checks
(bad input before any work), executors (in-process, local processes, Ray), output (the demo
file and trials.jsonl), generate (the run), report (JSON and PNG).
"""
from so101_sim_bridge.mimicgen.config import GenerationConfig
from so101_sim_bridge.mimicgen.errors import MimicGenError
from so101_sim_bridge.mimicgen.generate import GenerationSummary, generate
from so101_sim_bridge.mimicgen.trial import TrialResult, TrialRunner, TrialSetup, replay_actions

__all__ = [
    "GenerationConfig",
    "GenerationSummary",
    "MimicGenError",
    "TrialResult",
    "TrialRunner",
    "TrialSetup",
    "generate",
    "replay_actions",
]
