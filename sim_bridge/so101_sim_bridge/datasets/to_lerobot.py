"""`so101-dataset to-lerobot HDF5 OUT`: an Isaac Lab HDF5 file as a LeRobot v3 dataset, through the recorder's writer.

Each demo becomes an episode: observation.state from obs/joint_pos, action from actions, one video
per camera (obs/<camera>), the demo's instruction as its task, at the file's row rate. Joint
values go back to radians through the file's recorded units and into LeRobot's units through
the arm's calibration (degrees, or −100..100 with use_degrees=False; the gripper 0..100), exactly
as the recorder node's LeRobot output. Failed demos are left out unless include_failed.

The dataset's provenance is a conversion step: these options, the calibration's hash, the HDF5
file as its source (its hash and manifest), the task the source's manifest names.
"""
from __future__ import annotations

from pathlib import Path

import h5py
from rich.progress import Progress

from so101_calibration import ArmCalibration, UnitConverter
from so101_sim_bridge.datasets.errors import DatasetError
from so101_sim_bridge.datasets.isaaclab_file import demos, env_args_of, file_units, open_demo_file
from so101_sim_bridge.datasets.output import refuse_existing, whole_output
from so101_sim_bridge.provenance import (
    CONVERSION,
    UserFields,
    calibration_entry,
    load_user_fields,
    new_manifest,
    source_of,
    write_folder_provenance,
)
from so101_sim_bridge.recorder.episode import EpisodeInfo, EpisodeOutcome, Step
from so101_sim_bridge.recorder.lerobot_writer import LeRobotDatasetWriter, LeRobotWriterConfig
from so101_sim_bridge.recorder.video import VideoConfig

IK_WIDTH = 8


def hdf5_to_lerobot(source: Path, out: Path, calibration: ArmCalibration, use_degrees: bool = True,
                    video_codec: str = VideoConfig.codec, include_failed: bool = False, *,
                    calibration_file: Path | None = None, user: UserFields | None = None,
                    show_progress: bool = True) -> int:
    """Write the dataset at `out` (whole or not at all); the number of episodes written.

    `calibration_file`: where `calibration` was read (its hash goes into the provenance);
    `user`: the provenance's user fields (default: the provenance file's)."""
    user = user or load_user_fields()
    with open_demo_file(source) as file:
        env_args = env_args_of(file)
        units = file_units(env_args)
        fps = env_args.get("fps")
        if not isinstance(fps, int):
            raise DatasetError(f"{source}: env_args has no integer fps (the row rate); LeRobot datasets need one")
        groups = demos(file)
        if not groups:
            raise DatasetError(f"{source}: no demos to convert")
        refuse_existing(Path(out))  # before hashing the source
        origin = source_of(source, out, show_progress=show_progress)
        settings = {"use_degrees": use_degrees, "video_codec": video_codec, "include_failed": include_failed}
        manifest = new_manifest(CONVERSION, "so101-dataset to-lerobot", settings, user=user, sources=(origin,),
                                task=origin.manifest.task if origin.manifest is not None else None,
                                robot={"calibration": calibration_entry(calibration_file)})
        with whole_output(out) as partial:
            writer = LeRobotDatasetWriter(
                LeRobotWriterConfig(partial, fps=fps, video=VideoConfig(video_codec), include_failed=include_failed),
                UnitConverter(calibration, use_degrees=use_degrees),
            )
            kept = 0
            try:
                with Progress(transient=True, disable=not show_progress) as progress:
                    bar = progress.add_task("to LeRobot", total=sum(len(g["actions"]) for g in groups))
                    for demo in groups:
                        kept += _episode(writer, demo, units, fps, progress, bar)
            finally:
                writer.close()
            if not kept:
                raise DatasetError(f"{source}: every demo failed (success=False); pass include_failed to keep them")
            write_folder_provenance(partial, manifest, name=Path(out).name, show_progress=show_progress)
    return kept


def _episode(writer: LeRobotDatasetWriter, demo, units, fps: int, progress: Progress, bar) -> int:
    actions = demo["actions"]
    if actions.shape[1] == IK_WIDTH:
        raise DatasetError(f"{demo.name}: actions are 8-D poses (after eef_action_process.py --to_ik); convert the "
                           "file from before that step, or after --to_joint")
    obs = demo["obs"]
    cameras = [name for name in obs if isinstance(obs[name], h5py.Dataset) and obs[name].ndim == 4]
    attrs = demo.attrs
    writer.begin_episode(EpisodeInfo(str(attrs.get("instruction", "")), int(attrs.get("seed", 0))))
    joints = units.to_radians(obs["joint_pos"][()])
    targets = units.to_radians(actions[()])
    for t in range(len(joints)):
        writer.append(Step(t, t / fps, joints[t], targets[t], {c: obs[c][t] for c in cameras}))
        progress.advance(bar)
    return int(writer.end_episode(EpisodeOutcome(success=bool(attrs.get("success", True)))) is not None)
