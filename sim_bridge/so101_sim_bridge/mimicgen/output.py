"""The run's output folder: generated demos in an Isaac Lab HDF5 file, every trial in trials.jsonl.

Generated demos go through the recorder's HDF5 writer (recorder.hdf5_writer) in the seeds'
profile, units and rate, with the task, so they have the recorded demos' layout, datagen_info
and subtask signals included (they can seed a later run); each demo also carries its trial's
record (attribute `mimicgen_trial`: trial index, seed, sources, sampled poses). The writer saves
a demo whole or not at all (a killed run leaves the file intact), in trial order.

trials.jsonl has one line per trial that was not kept as a demo (a failure, unless failures are
kept), appended and flushed as each is decided. A run's finished trials are therefore the
file's demos plus those lines; `--resume` reads both, skips those trials and carries on, so a
killed run loses no finished demo and never writes one twice (a line cut short by the kill is
ignored: that trial runs again, with the same result).
"""
from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h5py

from so101_sim_bridge.datasets.isaaclab_file import demos, env_args_of, open_demo_file
from so101_sim_bridge.mimicgen.config import GenerationConfig, GenerationPlan
from so101_sim_bridge.mimicgen.errors import MimicGenError
from so101_sim_bridge.mimicgen.sources import SeedDemos
from so101_sim_bridge.mimicgen.trial import TrialResult
from so101_sim_bridge.provenance import Manifest
from so101_sim_bridge.recorder.episode import EpisodeInfo, EpisodeOutcome, Step
from so101_sim_bridge.recorder.hdf5_writer import Hdf5DemoWriter, Hdf5WriterConfig
from so101_sim_bridge.recorder.isaaclab_layout import LayoutConfig

log = logging.getLogger(__name__)

TRIAL_ATTRIBUTE = "mimicgen_trial"
PROVENANCE = "mimicgen"


def finished_trials(config: GenerationConfig) -> dict[int, dict[str, Any]]:
    """Trial index → record, for every trial a previous run finished (demos in the file, lines in trials.jsonl)."""
    records: dict[int, dict[str, Any]] = {}
    if config.trials_path.exists():
        for line in config.trials_path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                log.warning("%s: ignoring a line cut short (a killed run): %r", config.trials_path, line[:60])
                continue
            records[int(record["trial"])] = record
    for record in demo_records(config.hdf5_path):
        records[int(record["trial"])] = record
    return records


def demo_records(path: Path) -> Iterator[dict[str, Any]]:
    """Each generated demo's trial record, with the demo's name (`demo`), in file order."""
    if not path.exists():
        return
    with open_demo_file(path) as file:
        for demo in demos(file):
            if TRIAL_ATTRIBUTE in demo.attrs:
                yield {**json.loads(demo.attrs[TRIAL_ATTRIBUTE]), "demo": demo.name.rpartition("/")[2]}


class GeneratedDemos:
    """Writes kept trials as demos and the others as lines of trials.jsonl (module doc)."""

    def __init__(self, config: GenerationConfig, plan: GenerationPlan, seeds: SeedDemos, manifest: Manifest):
        self._config = config
        self._instruction = seeds.instruction
        self._fps = seeds.fps
        provenance = plan.provenance()
        env_args = seeds.env_args
        layout = LayoutConfig(profile=env_args.get("profile", "default"), task=seeds.task,
                              image_size=(plan.cameras[0].height, plan.cameras[0].width) if plan.cameras else None)
        extra = {"cameras": [camera.name for camera in plan.cameras], "sim_units": env_args.get("sim_units"),
                 PROVENANCE: provenance}
        self._writer = Hdf5DemoWriter(
            Hdf5WriterConfig(config.hdf5_path, resume=config.resume, layout=layout, fps=seeds.fps,
                             extra_env_args=extra, provenance=manifest),
            seeds.mapping,
        )
        self._trials = config.trials_path.open("a", encoding="utf-8")

    def keep(self, result: TrialResult) -> str:
        """Save the trial as the file's next demo (success attribute = its outcome); where it went."""
        writer = self._writer
        record = result.record()
        writer.begin_episode(EpisodeInfo(self._instruction, seed=result.seed,
                                         attributes={TRIAL_ATTRIBUTE: json.dumps(record)}))
        try:
            for t in range(result.rows + 1):
                images = {camera: frames[index[t]] for camera, (frames, index) in result.frames.items()}
                writer.append(Step(
                    index=t, stamp_s=t / self._fps, joint_position=result.joints[t],
                    action=result.actions[min(t, result.rows - 1)], images=images,
                    joint_velocity=result.velocities[t], object_poses={n: p[t] for n, p in result.objects.items()},
                ))
        except BaseException:
            writer.abort_episode()
            raise
        saved = writer.end_episode(EpisodeOutcome(success=result.success))
        if saved is None:
            raise MimicGenError(f"trial {result.index}: the writer kept no demo ({result.rows} rows)")
        return saved

    def skip(self, result: TrialResult) -> None:
        """Note a trial not kept as a demo (flushed, so a kill after this line does not run it again)."""
        self._trials.write(json.dumps(result.record()) + "\n")
        self._trials.flush()

    @property
    def provenance(self) -> Manifest | None:
        """The file's manifest as the writer keeps it (a resumed file is one of its sources)."""
        return self._writer.provenance

    def close(self) -> None:
        self._trials.close()
        self._writer.close()


def check_resumable(config: GenerationConfig, provenance: dict[str, Any]) -> None:
    """MimicGenError unless the output folder is new, or --resume continues a run with these settings."""
    if not config.resume:
        existing = [p.name for p in (config.hdf5_path, config.trials_path) if p.exists()]
        if existing:
            raise MimicGenError(f"{config.out} already holds a generation run ({', '.join(existing)}); pass --resume "
                                "to continue it, or choose another --out")
        return
    if not config.hdf5_path.exists():
        return
    with h5py.File(config.hdf5_path, "r") as file:
        recorded = env_args_of(file).get(PROVENANCE)
    if recorded is None:
        raise MimicGenError(f"{config.hdf5_path} was not written by so101-mimicgen; it cannot be resumed")
    changed = {key for key in set(recorded) | set(provenance) if recorded.get(key) != provenance.get(key)}
    if changed:
        details = ", ".join(f"{key} {recorded.get(key)!r} → {provenance.get(key)!r}" for key in sorted(changed))
        raise MimicGenError(f"{config.out} was generated with other settings ({details}); resume with the same "
                            "seeds, seed, cameras and failure handling, or choose another --out")
