"""The demo report's PNG plots, drawn from the Trace with matplotlib (Agg: no display needed).

Each figure function returns the Figure, so tests read back what was drawn (line data, bar
counts, span and boundary positions); save() writes it. Times are seconds since the run began.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")  # before pyplot: a headless robot PC or CI has no display
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from so101_bringup.demo import report  # noqa: E402
from so101_bringup.demo.trace import Series, Trace  # noqa: E402
from so101_calibration import JOINT_NAMES  # noqa: E402

ARMS = (("leader", "tab:blue"), ("follower", "tab:orange"), ("twin", "tab:green"))
PHASE_COLORS = {"demo": "#d9f2d9", report.DEPLOY: "#dde8f7"}
DPI = 100


GAP_S = 0.5
"""Samples further apart than this are not joined by a line (e.g. between the two graphs)."""


def run_start(trace: Trace) -> float:
    """The first sample's stamp: time 0 of every plot."""
    firsts = [series.arrays()[0][:1] for series in (trace.leader, trace.follower, trace.twin)]
    return float(np.concatenate(firsts).min())


def broken_at_gaps(times: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A NaN row inserted wherever consecutive samples are more than GAP_S apart."""
    gaps = np.flatnonzero(np.diff(times) > GAP_S) + 1
    return (np.insert(times, gaps, np.nan), np.insert(values.astype(float), gaps, np.nan, axis=0))


def trajectories_figure(trace: Trace) -> Figure:
    """Leader, follower and twin per joint over the whole run; demos and deploy shaded, chunk
    boundaries (when each chunk's first action was due) as dotted lines."""
    t0 = run_start(trace)

    def draw(ax, joint: int) -> None:
        for arm, color in ARMS:
            stamps, values = broken_at_gaps(*getattr(trace, arm).arrays()[::2])
            ax.plot(stamps - t0, values[:, joint], color=color, linewidth=1.0, label=arm)
        _shade_phases(ax, trace, t0)

    title = "Joint positions: leader, follower and MuJoCo twin (green: recorded demos, blue: policy replay)"
    return _per_joint_figure(trace, t0, title, draw)


def latency_figure(latencies: dict[str, report.Latency]) -> Figure:
    """One histogram (milliseconds) per latency, with its p50 and p99 marked."""
    figure, axes = plt.subplots(1, len(latencies), figsize=(4.5 * len(latencies), 3.8), dpi=DPI, squeeze=False)
    for ax, (name, latency) in zip(axes[0], latencies.items()):
        ax.set_title(name.replace("_", " "), fontsize=10)
        ax.set_xlabel("ms")
        if not latency.count:
            ax.text(0.5, 0.5, "no samples", ha="center", va="center", transform=ax.transAxes)
            continue
        ms = latency.samples_s * 1e3
        ax.hist(ms, bins=40, color="tab:purple", alpha=0.8)
        figures = latency.percentiles_ms()
        for key, style in (("p50_ms", "-"), ("p99_ms", "--")):
            ax.axvline(figures[key], color="black", linestyle=style, linewidth=1, label=f"{key[:3]} {figures[key]:.1f} ms")
        ax.legend(fontsize=8)
        ax.set_ylabel("samples")
    figure.tight_layout()
    return figure


def deploy_figure(trace: Trace) -> Figure:
    """The deploy phase per joint: each predicted chunk (a wide band), the policy's commands and the
    follower, with the chunk boundaries."""
    deploy = trace.phase(report.DEPLOY)
    t0 = run_start(trace)

    def draw(ax, joint: int) -> None:
        for index, chunk in enumerate(trace.chunks):
            ax.plot(chunk.times - t0, chunk.positions[:, joint], color="tab:red", alpha=0.3, linewidth=4,
                    label="predicted chunks" if index == 0 else None)
        _plot_within(ax, trace.commands, joint, deploy, t0, "policy commands", "black")
        _plot_within(ax, trace.follower, joint, deploy, t0, "follower", "tab:orange")
        ax.set_xlim(deploy.start - t0, deploy.end - t0)

    title = "Policy replay: predicted chunks, commands and the follower (dotted: chunk boundaries)"
    return _per_joint_figure(trace, t0, title, draw)


def save(figure: Figure, path: Path) -> Path:
    figure.savefig(path)
    plt.close(figure)
    return path


def _per_joint_figure(trace: Trace, t0: float, title: str, draw: Callable[[Axes, int], None]) -> Figure:
    """One axis per joint, sharing time: `draw(ax, joint)` draws the joint's lines, then the chunk
    boundaries are added as dotted lines; legend on the first axis."""
    figure, axes = plt.subplots(len(JOINT_NAMES), 1, sharex=True, figsize=(12, 13), dpi=DPI)
    boundaries = report.chunk_boundaries(trace) - t0
    for joint, (name, ax) in enumerate(zip(JOINT_NAMES, axes)):
        draw(ax, joint)
        for boundary in boundaries:
            ax.axvline(boundary, color="grey", linestyle=":", linewidth=0.6)
        ax.set_ylabel(f"{name}\n(rad)")
        ax.grid(alpha=0.3)
    axes[0].legend(loc="upper right", ncol=3)
    axes[0].set_title(title)
    axes[-1].set_xlabel("time since start (s)")
    figure.tight_layout()
    return figure


def _plot_within(ax, series: Series, joint: int, phase, t0: float, label: str, color: str) -> None:
    stamps, _, values = series.arrays()
    mask = (stamps >= phase.start) & (stamps <= phase.end)
    ax.plot(stamps[mask] - t0, values[mask, joint], color=color, linewidth=1.0, label=label)


def _shade_phases(ax, trace: Trace, t0: float) -> None:
    for phase in trace.phases:
        kind = "demo" if phase.name.startswith(report.EPISODE_PREFIX) else phase.name
        if kind in PHASE_COLORS:
            ax.axvspan(phase.start - t0, phase.end - t0, color=PHASE_COLORS[kind], zorder=0)
