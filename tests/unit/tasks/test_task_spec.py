"""Task specs: the shipped demo task loads with Isaac Lab Mimic's field names; bad specs name what is wrong."""
from __future__ import annotations

import numpy as np
import pytest
import yaml

from so101_sim_bridge.tasks import (
    DEMO_TASK,
    TaskSpecError,
    is_success,
    load_task,
    manual_signals,
    randomized_poses,
    segment_ends,
    shipped_task_ids,
    task_from_yaml,
)


def demo_yaml() -> dict:
    from importlib import resources

    return yaml.safe_load(resources.files("so101_sim_bridge.tasks").joinpath("specs", f"{DEMO_TASK}.yaml").read_text())


def test_the_demo_task_ships_in_mimic_vocabulary():
    assert DEMO_TASK in shipped_task_ids()
    task = load_task(DEMO_TASK)
    assert task.eef_name == "so101_follower"
    assert task.signal_names == ("grasp_red_cube", "place_on_blue_block")
    assert [s.object_ref for s in task.subtasks] == ["red_cube", "blue_block", None]
    assert task.subtasks[0].subtask_term_offset_range == (10, 20) and task.subtasks[-1].subtask_term_offset_range == (0, 0)
    assert task.subtasks[0].selection_strategy == "nearest_neighbor_object"
    assert task.datagen.generation_select_src_per_subtask is True
    assert set(task.scene.objects) == {"red_cube", "blue_block", "green_cylinder"}


def test_a_spec_file_by_path_loads(tmp_path):
    path = tmp_path / "task.yaml"
    data = demo_yaml()
    data["scene"]["robot_root_pose"] = [2.2, -0.61, 0.89, 0.0, 0.0, 0.0, 1.0]  # LeIsaac's PickOrange mount
    path.write_text(yaml.safe_dump(data))
    assert load_task(path).scene.robot_root_pose == (2.2, -0.61, 0.89, 0.0, 0.0, 0.0, 1.0)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d["subtasks"][0].update(selection_strategy="closest"), "selection_strategy 'closest' unknown"),
        (lambda d: d["subtasks"][0].update(subtask_term_offset_range=[5, 2]), "subtasks\\[0\\].*0 <= low <= high"),
        (lambda d: d["subtasks"][-1].update(subtask_term_signal="done"), "subtasks\\[2\\]"),
        (lambda d: d["subtasks"][0]["term"].update(object="orange"), "orange.*not in scene.objects"),
        (lambda d: d["subtasks"][0].update(action_noise_std=0.1), "unknown field.*action_noise_std"),
        (lambda d: d.pop("env_name"), "missing env_name"),
        (lambda d: d["scene"].update(robot_root_pose=[0, 0, 0]), "robot_root_pose"),
    ],
)
def test_bad_specs_are_refused_naming_the_field(edit, message):
    data = demo_yaml()
    edit(data)
    with pytest.raises(TaskSpecError, match=message):
        task_from_yaml(yaml.safe_dump(data), "my_task.yaml")


def test_an_unknown_task_names_the_shipped_ones():
    with pytest.raises(TaskSpecError, match=DEMO_TASK):
        load_task("pick_banana")


def test_manual_marks_make_one_rising_edge_each_and_segments_end_where_mimic_cuts():
    task = load_task(DEMO_TASK)
    signals = manual_signals(task, 50, [12, 30])
    assert signals["grasp_red_cube"].tolist() == [False] * 12 + [True] * 38
    assert segment_ends(signals) == [13, 31], "one row after the first True (generate_dataset.py)"
    with pytest.raises(ValueError, match="1 subtask mark"):
        manual_signals(task, 50, [12])
    with pytest.raises(ValueError, match="increasing"):
        manual_signals(task, 50, [30, 12])


def test_success_and_randomization():
    task = load_task(DEMO_TASK)
    block = np.array([0.22, -0.12, 0.01, 1, 0, 0, 0])
    on_top = {"red_cube": block + [0, 0, 0.03, 0, 0, 0, 0], "blue_block": block}
    assert is_success(task, 0.9, on_top)
    assert not is_success(task, -0.6, on_top), "still holding it"
    assert is_success(task, 0.0, on_top), "home, jaws half open"
    assert not is_success(task, 0.9, {**on_top, "red_cube": block + [0.05, 0, 0.03, 0, 0, 0, 0]})
    nominal = {"red_cube": np.array([0.25, 0, 0.02, 1, 0, 0, 0]), "blue_block": block, "green_cylinder": block}
    poses = randomized_poses(task, nominal, np.random.default_rng(3))
    assert np.abs(poses["red_cube"][:2] - nominal["red_cube"][:2]).max() <= 0.03
    assert np.linalg.norm(poses["red_cube"][3:]) == pytest.approx(1.0)
    assert np.array_equal(poses["green_cylinder"], nominal["green_cylinder"]), "not randomized"
