"""`so101-dataset annotate`: (re)compute Isaac Lab Mimic's datagen_info and subtask signals of an HDF5 file offline.

What Isaac Lab's annotate_demos.py does by replaying each demo in Isaac Sim, from the file alone
(tasks.annotation): eef poses by forward kinematics of obs/joint_pos (back in radians through the
file's recorded units), target poses from the actions (joint targets; or, after LeIsaac's
eef_action_process.py --to_ik, the 8-D pose actions themselves), object poses from each rigid
object's pre-step root pose (initial_state, then states shifted by one row) in the robot root
frame, and signals from the task's term rules, or from the operator's marks kept in the demo
(`subtask_marks`) unless rules are asked for. The file is rewritten through a copy, so an
interrupted run leaves it as it was. Its new provenance manifest is an annotation step whose
source is the file as it was (in place: its hash and its manifest, taken before the copy).
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import h5py
import numpy as np

from so101_sim_bridge.datasets.errors import DatasetError
from so101_sim_bridge.datasets.isaaclab_file import demos, env_args_of, file_units, open_demo_file
from so101_sim_bridge.datasets.output import PARTIAL_SUFFIX
from so101_sim_bridge.geometry import pose_to_matrix, relative_pose
from so101_sim_bridge.provenance import (
    ANNOTATION,
    UserFields,
    load_user_fields,
    mujoco_twin,
    new_manifest,
    source_of,
    task_reference,
    write_hdf5_provenance,
)
from so101_sim_bridge.recorder.hdf5_writer import DATA
from so101_sim_bridge.tasks import TaskSpec, datagen_info
from so101_sim_bridge.twin.kinematics import So101Kinematics

DATAGEN = "obs/datagen_info"
ROBOT = "articulation/robot"
IK_ACTION_WIDTH = 8
"""[x, y, z, qw, qx, qy, qz, gripper]: LeIsaac's eef_action_process.py --to_ik actions."""


def annotate_file(path: Path, task: TaskSpec, use_rules: bool = False, user: UserFields | None = None,
                  show_progress: bool = True) -> dict[str, str]:
    """Annotate every demo of `path` in place (through a copy); demo name → 'auto' or 'manual'.

    `user`: the provenance's user fields (default: the provenance file's, user.load_user_fields)."""
    path = Path(path)
    with open_demo_file(path):
        pass  # the checks, before copying anything
    before = source_of(path, path, in_place=True, show_progress=show_progress)
    work = path.with_name(path.name + PARTIAL_SUFFIX)
    shutil.copyfile(path, work)
    try:
        with h5py.File(work, "a") as file:
            done = _annotate(file, task, use_rules)
            settings = {"signals": "the task's term rules" if use_rules else
                        "the operator's marks where a demo has them, else the task's term rules",
                        "demos": done, "kinematics": "so101_sim_bridge.twin.kinematics on the twin's MJCF"}
            manifest = new_manifest(ANNOTATION, "so101-dataset annotate", settings,
                                    user=user or load_user_fields(), task=task_reference(task), sources=(before,),
                                    simulator=mujoco_twin())
            write_hdf5_provenance(file, manifest, name_as=path)
        os.replace(work, path)
    except BaseException:
        work.unlink(missing_ok=True)
        raise
    return done


def _annotate(file: h5py.File, task: TaskSpec, use_rules: bool) -> dict[str, str]:
    env_args = env_args_of(file)
    units = file_units(env_args)
    kinematics = So101Kinematics()
    twin_names = {isaac: twin for twin, isaac in task.scene.objects.items()}
    done = {}
    for demo in demos(file):
        name = demo.name.rpartition("/")[2]
        joints = units.to_radians(_need(demo, "obs/joint_pos"))
        objects = {twin_names[isaac]: _pre_step_object_poses(demo, isaac) for isaac in task.isaac_object_names}
        marks = [] if use_rules else [int(m) for m in np.atleast_1d(demo.attrs.get("subtask_marks", []))]
        actions = _need(demo, "actions")
        if actions.shape[1] == IK_ACTION_WIDTH:
            info = datagen_info(task, kinematics, joints, np.zeros_like(joints), objects, marks)
            info.target_eef_pose[task.eef_name] = pose_to_matrix(actions[:, :7]).astype(np.float32)
        else:
            info = datagen_info(task, kinematics, joints, units.to_radians(actions), objects, marks)
        if DATAGEN in demo:
            del demo[DATAGEN]
        for group, poses in (("eef_pose", info.eef_pose), ("target_eef_pose", info.target_eef_pose),
                             ("object_pose", info.object_pose)):
            for key, values in poses.items():
                demo.create_dataset(f"{DATAGEN}/{group}/{key}", data=values)
        for key, signal in info.subtask_term_signals.items():
            demo.create_dataset(f"{DATAGEN}/subtask_term_signals/{key}", data=signal)
        demo.attrs["subtask_annotation"] = info.annotation
        done[name] = info.annotation
    env_args.update({"task": task.id, "eef_name": task.eef_name})
    if not env_args.get("env_name"):
        env_args["env_name"] = task.env_name
    file[DATA].attrs["env_args"] = json.dumps(env_args)
    return done


def _pre_step_object_poses(demo: h5py.Group, isaac: str) -> np.ndarray:
    """The object's pose before each row's action, in the robot root frame (T, 7)."""
    key = f"rigid_object/{isaac}/root_pose"
    initial, states = _need(demo, f"initial_state/{key}"), _need(demo, f"states/{key}")
    in_env = np.vstack([initial, states[:-1]])
    robot = np.vstack([_need(demo, f"initial_state/{ROBOT}/root_pose"), _need(demo, f"states/{ROBOT}/root_pose")[:-1]])
    return relative_pose(robot, in_env)


def _need(demo: h5py.Group, key: str) -> np.ndarray:
    if key not in demo:
        raise DatasetError(
            f"{demo.file.filename}: {demo.name} has no {key}; annotating needs the robot's and the task's objects' "
            "states (record with the task spec: recorder parameter task)"
        )
    return demo[key][()]
