"""so101-dataset on files recorded from a real twin run: validate, annotate, to-lerobot, to-gr00t, bad input.

The GR00T export is read back by a minimal reader written from the reference facts alone
(docs/reference/datasets-mimic.md §5: how Isaac-GR00T's LeRobotEpisodeLoader finds and slices
things), not by the converter's own code.
"""
from __future__ import annotations

import json

import av
import h5py
import numpy as np
import pyarrow.parquet as pq
import pytest

from so101_calibration import (
    SIM_JOINT_NAMES,
    SO101_JOINTS,
    ArmCalibration,
    MotorCalibration,
    SimMappingConfig,
    SimUnits,
    UnitConverter,
    build_sim_mapping,
    read_calibration_file,
    write_calibration_file,
)
from so101_sim_bridge.datasets import DatasetError, hdf5_to_lerobot, lerobot_to_gr00t, validate
from so101_sim_bridge.datasets.cli import main
from so101_sim_bridge.recorder.isaaclab_layout import LayoutConfig
from so101_sim_bridge.tasks import DEMO_TASK, load_task

CAMERAS = ("front", "wrist")
SMALL = (48, 64)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, twin_run):
    """Two files of the same run: the leisaac profile with the demo task, and the default profile without a task."""
    folder = tmp_path_factory.mktemp("datasets")
    calibration = ArmCalibration({j.name: MotorCalibration(j.motor_id, 0, 0, 0 if j.name == "wrist_roll" else 1000,
                                                           4095 if j.name == "wrist_roll" else 3000)
                                  for j in SO101_JOINTS})
    calibration_file = folder / "follower.json"
    write_calibration_file(calibration_file, calibration)
    leisaac = build_sim_mapping(SimMappingConfig(SIM_JOINT_NAMES["so101"], SimUnits.LEISAAC), calibration)
    mimic = folder / "mimic.hdf5"
    twin_run.record(mimic, LayoutConfig(profile="leisaac", task=load_task(DEMO_TASK), image_size=SMALL),
                    mapping=leisaac, cameras=CAMERAS)
    with h5py.File(mimic, "a") as f:  # LeIsaac records the units in env_args: the recorder node adds sim_units
        env_args = json.loads(f["data"].attrs["env_args"])
        f["data"].attrs["env_args"] = json.dumps({**env_args, "sim_units": "leisaac"})
    plain = folder / "plain.hdf5"
    twin_run.record(plain, LayoutConfig(), cameras=CAMERAS)
    return {"mimic": mimic, "plain": plain, "calibration": calibration_file, "mapping": leisaac,
            "converter": UnitConverter(calibration, use_degrees=True), "folder": folder}


def test_a_leisaac_profile_file_with_a_task_passes_isaaclab_and_leisaac_mimic(recorded):
    for target in ("isaaclab", "leisaac-mimic"):
        report = validate(recorded["mimic"], target)
        assert report.ok, report.problems
    assert any("eef_action_process.py --to_ik" in note for note in validate(recorded["mimic"], "leisaac-mimic").notes)


def test_a_default_file_is_told_what_leisaac_mimic_would_get_wrong(recorded, capsys):
    assert validate(recorded["plain"], "isaaclab").ok
    assert main(["validate", str(recorded["plain"]), "--for", "leisaac-mimic"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("leisaac-mimic: ")
    for words in ("env_name is empty", "rows are 10 Hz but the task steps at 60 Hz", "6.0x too fast",
                  "not LeIsaac's", "no obs/datagen_info"):
        assert words in out, words


def test_annotate_recomputes_what_the_recorder_wrote(recorded, tmp_path):
    path = tmp_path / "mimic.hdf5"
    path.write_bytes(recorded["mimic"].read_bytes())
    with h5py.File(path, "a") as f:
        original = {k: v[()] for k, v in f["data/demo_0/obs/datagen_info/subtask_term_signals"].items()}
        eef = f["data/demo_0/obs/datagen_info/eef_pose/so101_follower"][()]
        del f["data/demo_0/obs/datagen_info"]
    assert not validate(path, "leisaac-mimic").ok
    assert main(["annotate", str(path), "--task", DEMO_TASK]) == 0
    assert validate(path, "leisaac-mimic").ok
    with h5py.File(path) as f:
        datagen = f["data/demo_0/obs/datagen_info"]
        for name, signal in original.items():
            assert np.array_equal(datagen[f"subtask_term_signals/{name}"][()], signal), name
        assert datagen["eef_pose/so101_follower"][()] == pytest.approx(eef, abs=1e-5), "FK from LeIsaac units, back"
    assert not path.with_name(path.name + ".partial").exists()


def test_to_lerobot_then_to_gr00t_and_a_gr00t_style_reader_reads_it(recorded, tmp_path):
    lerobot, gr00t = tmp_path / "lerobot", tmp_path / "gr00t"
    assert main(["to-lerobot", str(recorded["mimic"]), str(lerobot), "--calibration", str(recorded["calibration"])]) == 0
    assert validate(lerobot, "lerobot").ok
    assert not validate(lerobot, "gr00t").ok and "to-gr00t" in validate(lerobot, "gr00t").problems[0]
    assert main(["to-gr00t", str(lerobot), str(gr00t)]) == 0
    report = validate(gr00t, "gr00t")
    assert report.ok, report.problems

    episode = read_like_gr00t(gr00t, 0)
    with h5py.File(recorded["mimic"]) as f:
        demo = f["data/demo_0"]
        rows = len(demo["actions"])
        radians = recorded["mapping"].from_sim(demo["obs/joint_pos"][()])
        wrist = demo["obs/wrist"][:, 0, 0, 0]
    degrees = recorded["converter"].radians_to_normalized(radians)
    assert episode["length"] == rows and episode["fps"] == 60
    assert episode["state.single_arm"] == pytest.approx(degrees[:, :5], abs=1e-3)
    assert episode["state.gripper"] == pytest.approx(degrees[:, 5:], abs=1e-3)
    assert episode["task"] == "pick up the red cube"
    assert np.abs(episode["video.wrist"][:, 0, 0, 0].astype(int) - wrist).max() <= 3, "frame i is row i"
    assert episode["video.front"].shape == (rows, *SMALL, 3) and episode["codecs"] == {"h264"}


def read_like_gr00t(root, index):
    """GR00T's LeRobotEpisodeLoader as the reference describes it (§5), reduced to what the test compares."""
    meta = root / "meta"
    info = json.loads((meta / "info.json").read_text())
    assert info["codebase_version"] == "v2.1"
    modality = json.loads((meta / "modality.json").read_text())
    episodes = [json.loads(line) for line in (meta / "episodes.jsonl").read_text().splitlines()]
    tasks = {row["task_index"]: row["task"] for row in map(json.loads, (meta / "tasks.jsonl").read_text().splitlines())}
    stats = json.loads((meta / "stats.json").read_text())
    for key, feature in info["features"].items():  # used as is only if every float feature has all six
        if "float" in feature["dtype"]:
            assert {"mean", "std", "min", "max", "q01", "q99"} <= set(stats[key]), key
    episode = next(e for e in episodes if e["episode_index"] == index)
    chunk = index // info["chunks_size"]
    table = pq.read_table(root / info["data_path"].format(episode_chunk=chunk, episode_index=index)).to_pydict()
    length = min(len(table["frame_index"]), episode["length"])
    out = {"length": length, "fps": info["fps"], "codecs": set()}
    for group, default in (("state", "observation.state"), ("action", "action")):
        for name, span in modality[group].items():
            vectors = np.array(table[span.get("original_key", default)][:length], dtype=np.float32)
            out[f"{group}.{name}"] = vectors[:, span["start"]:span["end"]]
    for name, spec in modality["video"].items():
        key = spec.get("original_key", f"observation.images.{name}")
        assert key in info["features"]
        path = root / info["video_path"].format(episode_chunk=chunk, video_key=key, episode_index=index)
        with av.open(str(path)) as container:
            out["codecs"].add(container.streams.video[0].codec_context.name)
            frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
        out[f"video.{name}"] = np.stack(frames[:length])  # by index 0..length-1
    annotation = modality["annotation"]["human.task_description"]["original_key"]
    out["task"] = tasks[table[annotation][0]]
    return out


def test_bad_input_names_the_problem_and_leaves_nothing_behind(recorded, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["to-gr00t", str(recorded["mimic"]), str(out)]) == 1
    assert "is a file; to-gr00t takes a LeRobot v3 dataset folder" in capsys.readouterr().err
    assert main(["to-lerobot", str(tmp_path), str(out), "--calibration", str(recorded["calibration"])]) == 1
    assert "is a folder" in capsys.readouterr().err
    assert main(["info", str(tmp_path / "missing.hdf5")]) == 1
    assert "no file" in capsys.readouterr().err
    existing = tmp_path / "taken"
    existing.mkdir()
    assert main(["to-lerobot", str(recorded["mimic"]), str(existing), "--calibration", str(recorded["calibration"])]) == 1
    assert "already exists" in capsys.readouterr().err and not any(existing.iterdir())
    assert not out.exists() and not list(tmp_path.glob("*.partial"))


def test_a_conversion_failing_half_way_leaves_no_output(recorded, tmp_path):
    lerobot = tmp_path / "lerobot"
    hdf5_to_lerobot(recorded["plain"], lerobot, read_calibration_file(recorded["calibration"]))
    video = next((lerobot / "videos").rglob("*.mp4"))
    video.write_bytes(video.read_bytes()[: video.stat().st_size // 3])  # a truncated video file
    with pytest.raises((DatasetError, av.error.FFmpegError)):
        lerobot_to_gr00t(lerobot, tmp_path / "gr00t", show_progress=False)
    assert not (tmp_path / "gr00t").exists() and not (tmp_path / "gr00t.partial").exists()


def test_info_says_rate_units_cameras_and_annotation(recorded, capsys):
    assert main(["info", str(recorded["mimic"])]) == 0
    out = capsys.readouterr().out
    for words in ("1 demo(s)", "SO101-PickRedCube-Mimic-v0", "profile leisaac", "rate 60 rows/s (recorded at 10 fps)",
                  "units leisaac", "front 64x48", "annotation auto", "obs/ee_frame_state (", "red_cube"):
        assert words in out, words
