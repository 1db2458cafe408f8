"""Provenance on real files: a chain recording → annotation → LeRobot → GR00T verified end to end, a modified
or missing source found, unknown sources accepted, the card rendered, the user fields read and never invented.

The seed demos are the twin following the scripted operator, recorded by the recorder node's own
writers (settings.open_recorder with a RecorderNodeConfig), so the recording's manifest is the
one the node writes.
"""
from __future__ import annotations

import json
import shutil
import subprocess

import h5py
import pytest
import yaml
from markdown_it import MarkdownIt

from so101_calibration import write_calibration_file
from so101_sim_bridge.datasets import annotate_file, hdf5_to_lerobot, lerobot_to_gr00t, validate
from so101_sim_bridge.datasets.cli import main
from so101_sim_bridge.mimicgen import GenerationConfig, generate
from so101_sim_bridge.provenance import (
    ANNOTATION,
    CARD_NAME,
    CONVERSION,
    GENERATION,
    HDF5_MANIFEST,
    MANIFEST_NAME,
    RECORDING,
    ProvenanceError,
    UserFields,
    content_hash,
    hdf5_card_path,
    load_user_fields,
    read_manifest,
    tree_lines,
    verify_chain,
)
from so101_sim_bridge.provenance.user import ENVIRONMENT_VARIABLE
from so101_sim_bridge.recorder.errors import RecorderError
from so101_sim_bridge.recorder.settings import RecorderNodeConfig, open_recorder
from so101_sim_bridge.tasks import DEMO_TASK, load_task

OPERATOR = {"operator": "op-017", "consent": "forms/2025-03/op-017", "license": "cc-by-4.0",
            "asset_review": "reviewed 2025-03-02 by legal", "allowed_use": "research only"}


@pytest.fixture(autouse=True)
def no_machine_provenance_file(monkeypatch, tmp_path):
    """The developer's own ~/.config/so101/provenance.yaml or SO101_PROVENANCE must not leak into the tests."""
    monkeypatch.delenv(ENVIRONMENT_VARIABLE, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture
def chain(tmp_path, twin_run, calibration):
    """recording (recorder's writers) → annotation (rules) → to-lerobot → to-gr00t, in one folder tree."""
    user_file = tmp_path / "provenance.yaml"
    user_file.write_text(yaml.safe_dump(OPERATOR))
    calibration_file = tmp_path / "follower.json"
    write_calibration_file(calibration_file, calibration)
    seeds, seed_lerobot = tmp_path / "demos" / "seeds.hdf5", tmp_path / "demos" / "seeds_lerobot"
    config = RecorderNodeConfig(hdf5_path=str(seeds), lerobot_root=str(seed_lerobot), fps=10, cameras=("wrist",),
                                task=DEMO_TASK, simulator="mujoco", provenance_file=str(user_file),
                                calibration=str(calibration_file), video_codec="h264", keyboard=False)
    recorder, _ = open_recorder(config)
    with recorder:
        twin_run.feed(recorder, tuple(config.object_topic_map))
    task = load_task(DEMO_TASK)
    converter = UserFields(operator="conv-2", source="test")
    annotate_file(seeds, task, use_rules=True, user=converter, show_progress=False)
    lerobot, gr00t = tmp_path / "export" / "lerobot", tmp_path / "export" / "gr00t"
    hdf5_to_lerobot(seeds, lerobot, calibration, video_codec="h264", calibration_file=calibration_file,
                    user=converter, show_progress=False)
    lerobot_to_gr00t(lerobot, gr00t, show_progress=False, user=converter)
    return {"seeds": seeds, "seed_lerobot": seed_lerobot, "lerobot": lerobot, "gr00t": gr00t,
            "calibration": calibration_file, "root": tmp_path}


def test_the_chain_from_the_gr00t_export_back_to_the_seed_demos_verifies(chain):
    report = verify_chain(chain["gr00t"], show_progress=False)
    assert report.ok, report.problems
    gr00t = report.root
    assert gr00t.manifest.kind == CONVERSION and gr00t.manifest.tool == "so101-dataset to-gr00t"
    assert gr00t.details == ["content verified"]
    (lerobot,) = gr00t.children
    assert (lerobot.name, lerobot.status, lerobot.manifest.tool) == ("lerobot", "verified", "so101-dataset to-lerobot")
    (annotated,) = lerobot.children
    assert (annotated.name, annotated.status, annotated.manifest.kind) == ("seeds.hdf5", "verified", ANNOTATION)
    (recorded,) = annotated.children
    assert recorded.status == "in place" and recorded.manifest.kind == RECORDING and not recorded.children
    assert recorded.manifest.user["operator"] == "op-017" and lerobot.manifest.user["operator"] == "conv-2"

    recording = recorded.manifest
    task = load_task(DEMO_TASK)
    assert recording.task["id"] == DEMO_TASK and recording.task["env_name"] == task.env_name
    assert gr00t.manifest.task == recording.task, "the task is carried through every conversion"
    assert recording.robot["calibration"]["sha256"] == content_hash(chain["calibration"]).sha256
    assert recording.robot["cameras"][0]["name"] == "wrist"
    assert recording.simulator["name"] == "mujoco twin" and len(recording.simulator["model"]["mjcf_sha256"]) == 64
    assert recording.settings["fps"] == 10 and recording.software["project"]["so101_sim_bridge"]
    assert lerobot.manifest.robot["calibration"]["sha256"] == recording.robot["calibration"]["sha256"]
    assert annotated.manifest.settings["signals"] == "the task's term rules"
    assert set(annotated.manifest.settings["demos"]) == {"demo_0"}
    lines = tree_lines(gr00t)
    assert lines[1].startswith("└── lerobot [lerobot-v3.0] conversion (so101-dataset to-lerobot)")
    assert "human seed demos, operator op-017, consent forms/2025-03/op-017" in lines[-1]


def test_generated_demos_chain_back_through_the_annotation_to_the_human_seed_demos(chain, tmp_path):
    generator = tmp_path / "generator.yaml"
    generator.write_text("operator: gen-3\n")
    out = tmp_path / "mimicgen"
    summary = generate(GenerationConfig(seeds=(chain["seeds"],), out=out, num_demos=1, seed=5, cameras=(),
                                        calibration=chain["calibration"], provenance_file=generator,
                                        show_progress=False), say=lambda line: None)
    assert summary.tally.kept == 1
    gr00t = out / "generated_gr00t"
    lerobot_to_gr00t(out / "generated_lerobot", gr00t, show_progress=False)
    report = verify_chain(gr00t, show_progress=False)
    assert report.ok, report.problems
    assert [node.manifest.kind for node in report.root.walk()] == [CONVERSION, CONVERSION, GENERATION, ANNOTATION,
                                                                   RECORDING]
    generated = report.root.children[0].children[0]
    assert (generated.name, generated.status) == ("generated.hdf5", "verified")
    assert generated.children[0].status == "verified", "the seed file is hashed as the run read it"
    manifest = generated.manifest
    assert manifest.tool == "so101-mimicgen" and manifest.user["operator"] == "gen-3"
    assert manifest.task["id"] == DEMO_TASK and manifest.simulator["name"] == "mujoco twin"
    settings = manifest.settings
    assert [s["name"] for s in settings["subtasks"]] == [s.name for s in load_task(DEMO_TASK).subtasks]
    assert {"selection_strategy", "action_noise", "num_interpolation_steps"} <= set(settings["subtasks"][0])
    assert settings["randomization"] and settings["num_demos"] == 1 and settings["seed_demos"]
    outcome = settings["outcome"]
    assert (outcome["kept"], outcome["stopped"]) == (1, "done") and outcome["trials"] >= 1
    assert list(report.root.walk())[-1].manifest.user["operator"] == "op-017", "the human demos' operator, unchanged"
    assert "generated.hdf5 [isaaclab-hdf5] generation (so101-mimicgen)" in tree_lines(report.root)[2]


def test_the_recorders_lerobot_dataset_and_the_exports_stay_loadable(chain):
    assert validate(chain["seed_lerobot"], "lerobot").ok
    assert validate(chain["lerobot"], "lerobot").ok
    assert validate(chain["gr00t"], "gr00t").ok
    assert validate(chain["seeds"], "leisaac-mimic").problems == validate(chain["seeds"], "leisaac-mimic").problems
    manifest = read_manifest(chain["seed_lerobot"])
    assert manifest.kind == RECORDING and manifest.dataset["episodes"] == 1
    assert manifest.dataset["content"]["sha256"] == content_hash(chain["seed_lerobot"]).sha256
    with h5py.File(chain["seeds"]) as file:
        assert HDF5_MANIFEST in file and set(file) == {"data", HDF5_MANIFEST}


def test_a_modified_file_inside_a_source_breaks_the_chain_and_is_named(chain, capsys):
    data = chain["lerobot"] / "data" / "chunk-000" / "file-000.parquet"
    data.write_bytes(data.read_bytes() + b"\0")
    report = verify_chain(chain["gr00t"], show_progress=False)
    assert not report.ok
    (problem,) = report.problems
    assert str(chain["lerobot"]) in problem and "changed: data/chunk-000/file-000.parquet" in problem
    assert main(["provenance", str(chain["gr00t"])]) == 1
    out = capsys.readouterr().out
    assert "CHANGED (changed: data/chunk-000/file-000.parquet)" in out and "chain BROKEN: 1 problem(s)" in out


def test_a_modified_seed_file_and_a_modified_dataset_itself_are_found(chain):
    with h5py.File(chain["seeds"], "a") as file:
        file["data/demo_0"].attrs["success"] = False
    report = verify_chain(chain["gr00t"], show_progress=False)
    assert [p.split(":")[0] for p in report.problems] == [str(chain["seeds"])]
    (chain["gr00t"] / "meta" / "tasks.jsonl").write_text("{}\n")
    problems = verify_chain(chain["gr00t"], show_progress=False).problems
    assert any("the dataset changed since it was written (changed: meta/tasks.jsonl)" in p for p in problems)


def test_a_missing_source_is_named_and_a_tree_moved_whole_still_verifies(chain, tmp_path, capsys):
    moved = tmp_path / "elsewhere"
    shutil.move(chain["root"] / "export", moved / "export") if moved.mkdir() is None else None
    shutil.move(chain["root"] / "demos", moved / "demos")
    assert verify_chain(moved / "export" / "gr00t", show_progress=False).ok, "found by relative path"
    shutil.rmtree(moved / "export" / "lerobot")
    report = verify_chain(moved / "export" / "gr00t", show_progress=False)
    assert len(report.problems) == 1 and "missing" in report.problems[0] and "lerobot" in report.problems[0]
    assert [node.status for node in report.root.walk()] == ["top", "missing", "verified", "in place"], \
        "below a missing source its embedded manifest still leads to the seeds"
    assert verify_chain(moved / "export" / "gr00t", allow_missing=True, show_progress=False).ok
    assert main(["provenance", str(moved / "export" / "gr00t"), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and data["chain"]["sources"][0]["status"] == "missing"
    assert data["chain"]["sources"][0]["sources"][0]["sources"][0]["manifest"]["user"]["operator"] == "op-017"


def test_a_file_made_by_another_tool_is_an_unknown_source(chain, tmp_path, calibration, capsys):
    foreign = tmp_path / "foreign.hdf5"
    shutil.copyfile(chain["seeds"], foreign)
    with h5py.File(foreign, "a") as file:
        del file[HDF5_MANIFEST]
    out = tmp_path / "foreign_lerobot"
    hdf5_to_lerobot(foreign, out, calibration, video_codec="h264", show_progress=False)
    report = verify_chain(out, show_progress=False)
    assert report.ok and report.root.children[0].manifest is None and report.root.children[0].status == "verified"
    assert any("an unknown source" in note for note in report.notes)
    assert "unknown source (no provenance manifest" in tree_lines(report.root)[1]
    assert report.root.manifest.user["operator"] == "unknown", "defaults, never invented"
    assert main(["provenance", str(foreign)]) == 1
    assert "has no provenance manifest" in capsys.readouterr().err


def test_the_card_follows_lerobots_convention_and_renders(chain):
    text = (chain["lerobot"] / CARD_NAME).read_text()
    _, front, body = text.split("---\n", 2)
    meta = yaml.safe_load(front)
    assert meta["license"] == "unknown", "the converter's licence field was left at its default"
    assert meta["task_categories"] == ["robotics"] and meta["tags"][0] == "LeRobot"
    assert meta["configs"] == [{"config_name": "default", "data_files": "data/*/*.parquet"}]
    html = MarkdownIt("commonmark").enable("table").render(body)
    assert "<h1>lerobot</h1>" in html and "<h2>Dataset Structure</h2>" in html
    assert "<td>op-017</td>" in html and "<td>cc-by-4.0</td>" in html and "<td>research only</td>" in html
    assert "└── seeds.hdf5 [isaaclab-hdf5] annotation" in html, "the chain as a preformatted tree"
    assert '&quot;codebase_version&quot;: &quot;v3.0&quot;' in html, "meta/info.json as LeRobot's card shows it"
    seeds_card = hdf5_card_path(chain["seeds"]).read_text()
    meta = yaml.safe_load(seeds_card.split("---\n", 2)[1])
    assert "configs" not in meta and "LeRobot" not in meta["tags"] and DEMO_TASK in meta["tags"]


def test_a_resumed_recording_keeps_the_earlier_session_as_an_in_place_source(tmp_path, twin_run, calibration):
    path = tmp_path / "seeds.hdf5"
    for resume, operator in ((False, "first"), (True, "second")):
        user_file = tmp_path / f"{operator}.yaml"
        user_file.write_text(f"operator: {operator}\n")
        config = RecorderNodeConfig(hdf5_path=str(path), lerobot_root="", fps=10, cameras=("wrist",), resume=resume,
                                    provenance_file=str(user_file), keyboard=False)
        recorder, _ = open_recorder(config)
        with recorder:
            twin_run.feed(recorder)
    report = verify_chain(path, show_progress=False)
    assert report.ok
    second, first = [node.manifest for node in report.root.walk()]
    assert (second.user["operator"], first.user["operator"]) == ("second", "first")
    assert second.dataset["episodes"] == 2 and first.dataset["episodes"] == 1
    assert second.simulator is None and second.robot["calibration"] is None, "nothing claimed that was not read"


def test_a_folders_hash_is_the_documented_sha256sum_listing(chain):
    pipeline = ("find . -type f ! -path '*/.*' ! -path ./README.md ! -path ./provenance.json | sed 's|^./||' | "
                "LC_ALL=C sort | xargs -d '\\n' sha256sum | sha256sum")
    out = subprocess.run(["bash", "-c", pipeline], cwd=chain["gr00t"], capture_output=True, text=True, check=True)
    assert out.stdout.split()[0] == content_hash(chain["gr00t"]).sha256
    assert (chain["gr00t"] / MANIFEST_NAME).exists() and (chain["gr00t"] / CARD_NAME).exists()


def test_user_fields_come_from_one_file_and_default_to_unknown(tmp_path, monkeypatch):
    assert load_user_fields() == UserFields()
    assert (UserFields().operator, UserFields().asset_review) == ("unknown", "not reviewed")
    default = tmp_path / "config" / "so101" / "provenance.yaml"
    default.parent.mkdir(parents=True)
    default.write_text("operator: op-1\nisaac_sim: {version: '5.0', scene_usd: /scenes/kitchen.usd}\n")
    fields = load_user_fields()
    assert fields.operator == "op-1" and fields.consent == "unknown" and fields.isaac_sim["version"] == "5.0"
    named = tmp_path / "named.yaml"
    named.write_text("consent: c-9\n")
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, str(named))
    assert load_user_fields().consent == "c-9" and load_user_fields().operator == "unknown"
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, str(tmp_path / "typo.yaml"))
    with pytest.raises(ProvenanceError, match="typo.yaml .named by SO101_PROVENANCE. does not exist"):
        load_user_fields()
    named.write_text("operater: op-1\n")
    with pytest.raises(ProvenanceError, match=r"unknown field\(s\) \['operater'\]"):
        load_user_fields(named)
    named.write_text("operator: ''\n")
    with pytest.raises(ProvenanceError, match="operator must be a non-empty text"):
        load_user_fields(named)


def test_the_commands_take_the_user_fields_file_and_info_names_the_step(chain, tmp_path, capsys):
    user_file = tmp_path / "converter.yaml"
    user_file.write_text("operator: conv-9\nlicense: other\n")
    out = tmp_path / "gr00t_again"
    assert main(["to-gr00t", str(chain["lerobot"]), str(out), "--provenance", str(user_file)]) == 0
    manifest = read_manifest(out)
    assert (manifest.user["operator"], manifest.user["license"]) == ("conv-9", "other")
    assert manifest.user["source"] == str(user_file.resolve())
    assert main(["info", str(out)]) == 0
    assert "provenance: conversion by so101-dataset to-gr00t" in capsys.readouterr().out
    assert main(["to-gr00t", str(chain["lerobot"]), str(tmp_path / "x"), "--provenance", str(tmp_path / "no")]) == 1
    assert "does not exist" in capsys.readouterr().err and not (tmp_path / "x").exists()


def test_the_recorder_does_not_start_on_a_provenance_file_that_is_not_there(tmp_path):
    config = RecorderNodeConfig(hdf5_path=str(tmp_path / "demos.hdf5"), lerobot_root="", keyboard=False,
                                provenance_file=str(tmp_path / "missing.yaml"))
    with pytest.raises(RecorderError, match="provenance_file: provenance file .*missing.yaml .given. does not exist"):
        open_recorder(config)
    assert not (tmp_path / "demos.hdf5").exists()
    with pytest.raises(ValueError, match="simulator 'gazebo' unknown; use mujoco or isaac"):
        RecorderNodeConfig(simulator="gazebo")
