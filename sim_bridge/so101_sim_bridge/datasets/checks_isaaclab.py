"""The checks behind `validate --for isaaclab` and `--for leisaac-mimic` (validate.py says what each stands for)."""
from __future__ import annotations

import h5py
import numpy as np

from so101_sim_bridge.datasets.isaaclab_file import demos, env_args_of
from so101_sim_bridge.datasets.report import Report
from so101_sim_bridge.recorder.hdf5_writer import DATA, DEMO_PREFIX
from so101_sim_bridge.recorder.isaaclab_layout import LEISAAC_IMAGE_SIZE
from so101_sim_bridge.tasks import TaskSpecError, load_task, segment_ends

ROBOT = "articulation/robot"
ROBOT_LEAVES = {"root_pose": 7, "root_velocity": 6, "joint_position": 6, "joint_velocity": 6}
OBJECT_LEAVES = {"root_pose": 7, "root_velocity": 6}
LEISAAC_STEP_HZ = 60


def check_isaaclab(file: h5py.File, report: Report) -> None:
    data = file[DATA]
    env_args = env_args_of(file)
    if "env_args" not in data.attrs:
        report.problems.append("/data has no env_args attribute (Isaac Lab reads the env's name and type from it)")
    elif not env_args.get("env_name"):
        report.notes.append("env_args.env_name is empty: pass --task to Isaac Lab's and LeIsaac's scripts")
    groups = demos(file)
    names = [g.name.rpartition("/")[2] for g in groups]
    if not groups:
        report.problems.append("/data holds no demo_<i> group")
        return
    if names != [f"{DEMO_PREFIX}{i}" for i in range(len(names))]:
        report.problems.append(f"demos are not numbered demo_0..demo_{len(names) - 1} without gaps: {names}")
    total = 0
    for demo in groups:
        total += _demo(demo, report)
    if "total" in data.attrs and int(data.attrs["total"]) != total:
        report.problems.append(f"/data total is {int(data.attrs['total'])}, but the demos hold {total} samples")


def _demo(demo: h5py.Group, report: Report) -> int:
    name = demo.name.rpartition("/")[2]
    problems = report.problems
    if "actions" not in demo:
        problems.append(f"{name}: no actions")
        return 0
    rows = len(demo["actions"])
    for attr, kind in (("num_samples", (int, np.integer)), ("seed", (int, np.integer)), ("success", (bool, np.bool_))):
        if attr not in demo.attrs:
            problems.append(f"{name}: no {attr} attribute")
        elif not isinstance(demo.attrs[attr], kind):
            problems.append(f"{name}: {attr} is {type(demo.attrs[attr]).__name__}, expected {kind[0].__name__}")
    if "num_samples" in demo.attrs and int(demo.attrs["num_samples"]) != rows:
        problems.append(f"{name}: num_samples {int(demo.attrs['num_samples'])} but {rows} actions")
    leaves: dict[str, h5py.Dataset] = {}
    demo.visititems(lambda key, item: leaves.__setitem__(key, item) if isinstance(item, h5py.Dataset) else None)
    for key, dataset in leaves.items():
        expected = 1 if key.startswith("initial_state/") else rows
        if len(dataset) != expected:
            problems.append(f"{name}: {key} has {len(dataset)} rows, expected {expected}")
        if dataset.dtype.kind == "f" and dataset.size and not np.isfinite(dataset[()]).all():
            problems.append(f"{name}: {key} holds NaN or infinite values")
    for prefix in ("initial_state", "states"):
        _state(demo, name, prefix, leaves, report)
    return rows


def _state(demo: h5py.Group, name: str, prefix: str, leaves: dict, report: Report) -> None:
    """reset_to reads every articulation's four leaves and every rigid object's two (KeyError otherwise)."""
    for leaf, width in ROBOT_LEAVES.items():
        key = f"{prefix}/{ROBOT}/{leaf}"
        if key not in leaves:
            report.problems.append(f"{name}: no {key} (Isaac Lab's reset_to raises KeyError: '{leaf}')")
        elif leaves[key].shape[1:] != (width,):
            report.problems.append(f"{name}: {key} is {leaves[key].shape}, expected (rows, {width})")
    objects = sorted({key.split("/")[2] for key in leaves if key.startswith(f"{prefix}/rigid_object/")})
    if prefix == "initial_state" and not objects:
        report.notes.append(f"{name}: no rigid objects in initial_state: a task scene with objects cannot be reset "
                            "to this demo (record with a task spec)")
    for obj in objects:
        for leaf, width in OBJECT_LEAVES.items():
            key = f"{prefix}/rigid_object/{obj}/{leaf}"
            if key not in leaves or leaves[key].shape[1:] != (width,):
                report.problems.append(f"{name}: {key} missing or not (rows, {width})")
    for key, dataset in leaves.items():
        if key.startswith(prefix) and key.endswith("root_pose") and dataset.shape[1:] == (7,):
            norms = np.linalg.norm(dataset[()][:, 3:], axis=1)
            if not np.allclose(norms, 1.0, atol=1e-3):
                report.problems.append(f"{name}: {key} quaternions are not unit length ([x y z qw qx qy qz], w first)")


def check_leisaac_mimic(file: h5py.File, report: Report) -> None:
    env_args = env_args_of(file)
    problems, notes = report.problems, report.notes
    if not env_args.get("env_name"):
        problems.append("env_args.env_name is empty: generate_dataset.py needs the task's gym id (record with a task "
                        "spec, or run so101-dataset annotate --task)")
    task = None
    if env_args.get("task"):
        try:
            task = load_task(env_args["task"])
        except TaskSpecError:
            notes.append(f"task {env_args['task']!r} is not a shipped spec: subtask offsets not checked")
    rate = env_args.get("fps")
    step_hz = task.step_hz if task is not None else LEISAAC_STEP_HZ
    if rate != step_hz:
        problems.append(
            f"rows are {rate} Hz but the task steps at {step_hz} Hz: LeIsaac and Isaac Lab replay one row per step, "
            f"so this demo would run {step_hz / rate if rate else float('nan'):.1f}x too fast (record with profile leisaac)"
        )
    if env_args.get("sim_units") != "leisaac" and env_args.get("profile") != "leisaac":
        problems.append(
            f"joints are in {env_args.get('sim_units', 'unknown')!r} units, not LeIsaac's (its USD limits); "
            "record with profile leisaac"
        )
    for demo in demos(file):
        _mimic_demo(demo, task, env_args, report)
    failed = sum(1 for demo in demos(file) if not bool(demo.attrs.get("success", True)))
    if failed:
        notes.append(f"{failed} demo(s) have success=False: eef_action_process.py drops them")
    notes.append("actions are joint targets: run LeIsaac's eef_action_process.py --to_ik before generate_dataset.py "
                 "(datagen_info is kept), and --to_joint after it")


def _mimic_demo(demo: h5py.Group, task, env_args: dict, report: Report) -> None:
    name = demo.name.rpartition("/")[2]
    problems = report.problems
    rows = len(demo["actions"]) if "actions" in demo else 0
    for key, width in (("obs/ee_frame_state", 7), ("obs/joint_pos_target", 6)):
        if key not in demo or demo[key].shape != (rows, width):
            problems.append(f"{name}: no {key} ({rows}, {width}) (eef_action_process.py needs it)")
    if "obs/ee_frame_state" in demo and len(demo["obs/ee_frame_state"]):
        norms = np.linalg.norm(demo["obs/ee_frame_state"][()][:, 3:], axis=1)
        if not np.allclose(norms, 1.0, atol=1e-3):
            problems.append(f"{name}: obs/ee_frame_state quaternions are not unit length")
    for camera in ("front", "wrist"):
        key = f"obs/{camera}"
        if key not in demo:
            report.notes.append(f"{name}: no {key}: LeIsaac's LeRobot exporter needs it (Mimic does not)")
        elif demo[key].shape[1:3] != LEISAAC_IMAGE_SIZE:
            report.notes.append(f"{name}: {key} is {demo[key].shape[2]}x{demo[key].shape[1]}, LeIsaac's cameras 640x480")
    datagen = demo.get("obs/datagen_info")
    if datagen is None:
        problems.append(f"{name}: no obs/datagen_info: generate_dataset.py raises ValueError (annotate it: "
                        "so101-dataset annotate --task, or Isaac Lab's annotate_demos.py)")
        return
    eef = env_args.get("eef_name") or (task.eef_name if task is not None else None)
    for group in ("eef_pose", "target_eef_pose"):
        entries = datagen.get(group)
        if entries is None or (eef is not None and eef not in entries):
            problems.append(f"{name}: no obs/datagen_info/{group}/{eef or '<eef>'}")
            continue
        for key, dataset in entries.items():
            if dataset.shape != (rows, 4, 4):
                problems.append(f"{name}: datagen_info/{group}/{key} is {dataset.shape}, expected ({rows}, 4, 4)")
    objects = {key.split("/")[2] for key in _leaf_names(demo) if key.startswith("initial_state/rigid_object/")}
    posed = set(datagen.get("object_pose", {}))
    if objects - posed:
        problems.append(f"{name}: no datagen_info/object_pose for {sorted(objects - posed)}")
    signals = datagen.get("subtask_term_signals")
    if signals is None or not len(signals):
        problems.append(f"{name}: no datagen_info/subtask_term_signals")
        return
    values = {}
    for key, dataset in signals.items():
        signal = dataset[()]
        if dataset.dtype != bool or signal.shape != (rows,):
            problems.append(f"{name}: signal {key} must be ({rows},) bool, is {signal.shape} {dataset.dtype}")
            continue
        edges = np.count_nonzero(np.diff(signal.astype(np.int8)))
        if signal[0] or edges != 1:
            problems.append(f"{name}: signal {key} must start False and rise exactly once (it never ends its subtask, "
                            "or ends it twice: generate_dataset.py raises or cuts in the wrong place)")
        values[key] = signal
    order = task.signal_names if task is not None else tuple(values)
    ends = segment_ends({key: values[key] for key in order if key in values})
    if None not in ends and any(b <= a for a, b in zip(ends, ends[1:])):
        problems.append(f"{name}: subtask ends {ends} are not strictly increasing")
    if task is not None and None not in ends:
        ranges = [s.subtask_term_offset_range for s in task.subtasks]
        for i in range(1, len(ends)):
            if not ends[i - 1] + ranges[i - 1][1] < ends[i] + ranges[i][0]:
                problems.append(f"{name}: subtasks {i - 1} and {i} end {ends[i] - ends[i - 1]} rows apart, less than "
                                f"the offset range allows (Mimic asserts end[i-1] + max offset < end[i] + min offset)")


def _leaf_names(group: h5py.Group) -> list[str]:
    names: list[str] = []
    group.visititems(lambda key, item: names.append(key) if isinstance(item, h5py.Dataset) else None)
    return names
