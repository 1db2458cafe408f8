"""The rerun logger, read back from a real recording (.rrd) with rerun's own dataframe API."""
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

rr = pytest.importorskip("rerun", reason="rerun-sdk is optional (the rerun extra); the dev set installs it")
import rerun.blueprint as rrb  # noqa: E402

from so101_bringup.visualization import RerunNodeConfig, image_entity  # noqa: E402
from so101_bringup.visualization.log import RateLimit, RerunLog, blueprint  # noqa: E402
from so101_calibration import JOINT_NAMES
from so101_calibration.interface_contract import CAMERA_IMAGE, SIM_CAMERA_IMAGE

T0 = 1_790_000_000.0  # a wall-clock stamp (2026)


def recorded(tmp_path: Path, log_into, static: bool = False) -> pa.Table:
    """What `log_into(RerunLog)` logged to an .rrd file: a row per time of the `time` timeline (or the static data)."""
    path = tmp_path / "test.rrd"
    recording = rr.RecordingStream("so101_test")
    recording.save(path)
    log_into(RerunLog(recording))
    recording.flush()
    recording.disconnect()
    view = rr.dataframe.load_recording(path).view(index="time", contents="/**")
    return (view.select_static() if static else view.select()).read_all()


def series(table: pa.Table, column: str) -> list[tuple[float, object]]:
    """(time in seconds, value) of the rows where `column` was logged."""
    values = table.column(column).to_pylist()
    times = table.column("time").cast(pa.int64()).to_pylist()
    return [(t / 1e9, v[0] if len(v) == 1 else v) for t, v in zip(times, values) if v is not None]


def test_joint_positions_are_scalars_per_joint_and_source_on_the_stamp_timeline(tmp_path):
    def log(viewer: RerunLog) -> None:
        viewer.joints("follower", np.arange(6) * 0.1, T0)
        viewer.joints("follower", np.arange(6) * 0.2, T0 + 0.01)
        viewer.joints("command", np.full(6, -1.5), T0 + 0.02)

    table = recorded(tmp_path, log)
    follower = series(table, "/joints/elbow_flex/follower:Scalars:scalars")
    assert [t for t, _ in follower] == pytest.approx([T0, T0 + 0.01], abs=1e-6)
    assert [v for _, v in follower] == pytest.approx([0.2, 0.4])
    assert series(table, "/joints/gripper/command:Scalars:scalars") == [(pytest.approx(T0 + 0.02), -1.5)]
    assert not [c for c in table.column_names if c.startswith("/joints/gripper/leader:Scalars")]


def test_series_styles_are_static_so_a_late_viewer_gets_them(tmp_path):
    table = recorded(tmp_path, lambda viewer: None, static=True)
    for joint in JOINT_NAMES:
        for source in ("leader", "follower", "command"):
            assert table.column(f"/joints/{joint}/{source}:SeriesLines:names").to_pylist()[0] == [source]
        assert table.column(f"/joints/{joint}/chunk:SeriesPoints:names").to_pylist()[0] == ["policy chunk"]


def test_a_chunk_lands_on_the_timeline_where_each_step_is_due(tmp_path):
    times = T0 + np.array([0.1, 0.2, 0.3])
    positions = np.arange(18.0).reshape(3, 6)
    table = recorded(tmp_path, lambda viewer: viewer.chunk(times, positions))
    for j, joint in enumerate(JOINT_NAMES):
        steps = series(table, f"/joints/{joint}/chunk:Scalars:scalars")
        assert [t for t, _ in steps] == pytest.approx(list(times), abs=1e-6)
        assert [v for _, v in steps] == list(positions[:, j])


def test_a_chunk_must_have_one_column_per_joint(tmp_path):
    with pytest.raises(ValueError, match=r"shape \(2, 6\), got \(2, 5\)"):
        RerunLog(rr.RecordingStream("so101_test")).chunk([T0, T0 + 0.1], np.zeros((2, 5)))


def test_images_are_logged_under_their_topic_without_image_raw(tmp_path):
    rgb = np.zeros((4, 5, 3), np.uint8)
    rgb[:, :, 0] = 200
    entity = image_entity(SIM_CAMERA_IMAGE.format(name="wrist"))
    assert entity == "sim/cameras/wrist"
    table = recorded(tmp_path, lambda viewer: viewer.image(entity, rgb, T0))
    [(t, buffer)] = series(table, "/sim/cameras/wrist:Image:buffer")
    [(_, image_format)] = series(table, "/sim/cameras/wrist:Image:format")
    assert t == pytest.approx(T0)
    assert (image_format["width"], image_format["height"]) == (5, 4)
    assert np.array_equal(np.asarray(buffer, np.uint8).reshape(4, 5, 3), rgb)


def test_diagnostics_numbers_become_scalars_and_text_is_logged_when_it_changes(tmp_path):
    def log(viewer: RerunLog) -> None:
        for i in range(3):
            viewer.diagnostic("arm1/follower", 0, "ok", {"rate_hz": f"{99.5 + i}", "port": "/dev/ttyACM0"}, T0 + i)
        viewer.diagnostic("arm1/follower", 1, "2 commands clamped", {"rate_hz": "inf"}, T0 + 3)

    table = recorded(tmp_path, log)
    assert [v for _, v in series(table, "/diagnostics/arm1/follower/rate_hz:Scalars:scalars")] == [99.5, 100.5, 101.5]
    assert not [c for c in table.column_names if "/port:" in c]  # not a number
    assert series(table, "/diagnostics/arm1/follower:TextLog:text") == [
        (pytest.approx(T0), "OK: ok"), (pytest.approx(T0 + 3), "WARN: 2 commands clamped"),
    ]
    assert [v for _, v in series(table, "/diagnostics/arm1/follower:TextLog:level")] == ["INFO", "WARN"]


def test_the_default_layout_has_a_plot_per_joint_and_a_view_per_camera():
    def views(container) -> list:
        found = []
        for part in container.contents:
            found += [part] if hasattr(part, "origin") else views(part)
        return found

    origins = [str(view.origin) for view in views(blueprint(JOINT_NAMES, ["cameras/wrist"]).root_container)]
    assert [f"joints/{joint}" for joint in JOINT_NAMES] + ["cameras/wrist"] == origins[:7]
    assert isinstance(blueprint(JOINT_NAMES, []), rrb.Blueprint)


def test_rate_limit_keeps_the_average_rate_per_key():
    limit = RateLimit(30.0)
    ticks = [i / 100 for i in range(100)]  # 1 s of a 100 Hz stream
    assert sum(limit.allow("follower", t) for t in ticks) == 30
    assert limit.allow("leader", 0.995)  # another key has its own slots
    unlimited = RateLimit(0.0)
    assert all(unlimited.allow("images", t) for t in ticks)


@pytest.mark.parametrize(
    "fields,message",
    [
        ({"grpc_port": 9000, "web_port": 9000}, "must differ"),
        ({"web_port": 70000}, "web_port must be 1..65535"),
        ({"image_rate_hz": -1.0}, "image_rate_hz must be >= 0"),
        ({"image_topics": (CAMERA_IMAGE.format(name="wrist"), "/cameras/wrist")}, "distinct topics"),
        ({"server_memory_limit": " "}, "server_memory_limit"),
    ],
)
def test_bad_parameters_are_refused_naming_the_field(fields, message):
    with pytest.raises(ValueError, match=message):
        RerunNodeConfig(**fields)
