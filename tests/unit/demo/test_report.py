"""The demo report's figures and plots, from a Trace built here with known answers."""
from __future__ import annotations

import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.patches import Polygon, Rectangle

from so101_bringup.demo import plots, report
from so101_bringup.demo.summary import summarize
from so101_bringup.demo.trace import ChunkRecord, Phase, Trace
from so101_calibration import JOINT_NAMES

T0 = 1_800_000_000.0
LAG_S = 0.03
RATE_HZ = 100.0


def leader_motion(t: np.ndarray) -> np.ndarray:
    """Every joint on a 0.5 Hz sine of amplitude 0.5 rad, phase-shifted per joint."""
    return 0.5 * np.sin(2 * np.pi * 0.5 * (t - T0)[:, None] + np.arange(6)[None, :])


def make_trace() -> Trace:
    trace = Trace()
    t = T0 + np.arange(0, 10, 1 / RATE_HZ)
    for stamp in t:
        leader = leader_motion(np.array([stamp]))[0]
        trace.leader.append(stamp, stamp + 0.002, leader)
        trace.follower.append(stamp, stamp + 0.002, leader_motion(np.array([stamp - LAG_S]))[0])
        trace.commands.append(stamp + 0.004, stamp + 0.005, leader)  # published 4 ms after the leader read
        trace.twin.append(stamp + 0.001, stamp + 0.003, leader_motion(np.array([stamp - 2 * LAG_S]))[0])
    for k in range(10):
        trace.twin_lag.append(T0 + k, T0 + k, [0.005 + 0.001 * k])
    trace.twin_lag.append(T0 + 0.5, T0 + 0.5, [2.5])  # while the twin started: outside every phase
    for k in range(4):  # deploy: four chunks of 16 steps at 30 Hz, each 50 ms late
        observed = T0 + 6 + k * 0.5
        times = observed + 0.05 + np.arange(16) / 30
        trace.chunks.append(ChunkRecord(observed + 0.06, observed, times, leader_motion(times)))
    trace.phases = [Phase("demo 1/2", T0 + 1, T0 + 3), Phase("demo 2/2", T0 + 3.5, T0 + 5.5), Phase("deploy", T0 + 6, T0 + 9)]
    trace.final_diagnostics = {
        "teleop": {"follower": {"safety_clamped_step": "3", "safety_rejected_stale": "0", "rate_hz": "99.8"}},
        "deploy": {"follower": {"safety_clamped_step": "0"}, "inference": {"chunks_accepted": "4", "ticks_hold": "1"}},
    }
    return trace


def test_tracking_error_is_the_lag_times_the_speed():
    trace = make_trace()
    error = report.tracking_error(trace.leader, trace.follower, report.episodes(trace))
    peak_speed = 0.5 * 2 * np.pi * 0.5
    assert error.samples == 402  # 2 × 201 samples at 100 Hz inside the two demos
    assert error.worst_p99 == pytest.approx(peak_speed * LAG_S, rel=0.05)
    assert 0 < min(error.mean.values()) < error.worst_p99


def test_latencies_come_from_the_stamps():
    trace = make_trace()
    teleop = report.leader_to_command(trace, report.episodes(trace))
    np.testing.assert_allclose(teleop.samples_s, 0.004, atol=1e-6)
    assert report.delivery(trace.leader, report.episodes(trace)).percentiles_ms()["p50_ms"] == pytest.approx(2.0, abs=1e-3)
    assert report.twin_lag(trace, trace.phases).percentiles_ms()["max_ms"] == pytest.approx(14.0, abs=1e-3)
    np.testing.assert_allclose(report.chunk_latency(trace).samples_s, 0.06, atol=1e-6)
    assert report.Latency(np.empty(0)).percentiles_ms() == {"count": 0}


def test_rates_boundaries_and_counters():
    trace = make_trace()
    assert report.rate_hz(trace.leader, report.episodes(trace)) == pytest.approx(RATE_HZ, rel=0.01)
    np.testing.assert_allclose(report.chunk_boundaries(trace), T0 + 6.05 + 0.5 * np.arange(4))
    assert report.counters({"safety_clamped_step": "3", "rate_hz": "99.8", "safety_x": "n/a"}, ("safety_",)) == {
        "safety_clamped_step": 3
    }


def test_the_summary_reports_each_graph_and_comparison():
    summary = summarize(make_trace(), emulated=True, malformed=0)
    assert summary.episodes_recorded == 2
    assert summary.safety_counters == {
        "teleop": {"safety_clamped_step": 3, "safety_rejected_stale": 0},
        "deploy": {"safety_clamped_step": 0},
    }
    assert summary.policy_counters == {"chunks_accepted": 4, "ticks_hold": 1}
    twin = summary.tracking_rad["twin_vs_follower"]
    assert twin["worst_p99"] == pytest.approx(0.5 * np.pi * LAG_S, rel=0.1), "the twin lags the follower by one LAG_S"
    assert summary.latency_ms["leader_read_to_teleop_command"]["p50_ms"] == pytest.approx(4.0, abs=1e-3)


def test_the_trajectory_plot_draws_the_three_arms_the_phases_and_the_chunk_boundaries(tmp_path):
    trace = make_trace()
    figure = plots.trajectories_figure(trace)
    axes = figure.axes
    assert len(axes) == len(JOINT_NAMES)
    t0 = plots.run_start(trace)
    for joint, ax in enumerate(axes):
        leader, follower, twin = ax.lines[:3]
        stamps, _, values = trace.leader.arrays()
        np.testing.assert_allclose(leader.get_xdata(), stamps - t0)
        np.testing.assert_allclose(leader.get_ydata(), values[:, joint])
        np.testing.assert_allclose(follower.get_ydata(), trace.follower.arrays()[2][:, joint])
        assert twin.get_label() == "twin"
        boundaries = [line.get_xdata()[0] for line in ax.lines[3:]]
        np.testing.assert_allclose(boundaries, report.chunk_boundaries(trace) - t0)
        # axvspan draws a Polygon before matplotlib 3.9, a Rectangle from 3.9 on
        spans = [p for p in ax.patches if isinstance(p, (Rectangle, Polygon, PolyCollection))] or ax.collections
        assert len(spans) == 3, "two demos and the deploy phase shaded"
    assert plots.save(figure, tmp_path / "plot.png").stat().st_size > 10_000


def test_gaps_break_the_lines():
    times, values = plots.broken_at_gaps(np.array([0.0, 0.1, 2.0, 2.1]), np.arange(4.0)[:, None])
    assert np.isnan(times[2]) and np.isnan(values[2, 0]) and times.size == 5


def test_the_latency_histograms_hold_every_sample(tmp_path):
    trace = make_trace()
    latencies = {"teleop": report.leader_to_command(trace, report.episodes(trace)), "none": report.Latency(np.empty(0))}
    figure = plots.latency_figure(latencies)
    counted = sum(patch.get_height() for patch in figure.axes[0].patches)
    assert counted == latencies["teleop"].count
    assert not figure.axes[1].patches, "an empty latency says so instead of drawing bars"
    assert plots.save(figure, tmp_path / "plot.png").stat().st_size > 10_000


def test_the_deploy_plot_draws_every_chunk_within_the_deploy_phase(tmp_path):
    trace = make_trace()
    figure = plots.deploy_figure(trace)
    ax = figure.axes[0]
    chunk_lines = [line for line in ax.lines if line.get_color() == "tab:red"]
    assert len(chunk_lines) == len(trace.chunks)
    np.testing.assert_allclose(chunk_lines[2].get_ydata(), trace.chunks[2].positions[:, 0])
    t0 = plots.run_start(trace)
    follower = next(line for line in ax.lines if line.get_label() == "follower")
    assert follower.get_xdata().min() >= 6 - 1e-9 + (T0 - t0) and follower.get_xdata().max() <= 9 + (T0 - t0)
    assert plots.save(figure, tmp_path / "plot.png").stat().st_size > 10_000


def test_the_trace_file_holds_the_arrays(tmp_path):
    trace = make_trace()
    saved = np.load(trace.save(tmp_path / "trace.npz"))
    np.testing.assert_array_equal(saved["leader_values"], trace.leader.arrays()[2])
    assert saved["chunk_lengths"].tolist() == [16] * 4 and saved["chunk_positions"].shape == (64, 6)
    assert saved["phase_names"].tolist() == ["demo 1/2", "demo 2/2", "deploy"]
