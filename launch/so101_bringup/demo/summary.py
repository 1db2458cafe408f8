"""DemoSummary: the figures printed at the end of `so101 demo` and written to summary.json."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from so101_bringup.demo import report
from so101_bringup.demo.trace import Trace

SAFETY_PREFIXES = ("safety_rejected", "safety_clamped")
TWIN_TRACKING_GOAL_RAD = 0.05
"""|twin − follower| p99 on every joint (issue 12's goal for the twin's servo model)."""
TWIN_ECHO_GOAL_MS = 10.0
"""Follower state → twin echo, p50: one 100 Hz tick."""
POLICY_PREFIXES = ("rejected_", "clamped_", "failed_", "ticks_hold", "chunks_accepted", "requests", "rtc_chunks",
                   "rtc_late")
RTC_VALUES = ("rtc", "chunk_length", "rtc_frozen_steps")


@dataclass
class DemoSummary:
    emulated: bool
    episodes_recorded: int
    rates_hz: dict[str, float]
    tracking_rad: dict[str, dict]
    """Per comparison: mean and p99 |error| per joint, radians."""
    latency_ms: dict[str, dict]
    safety_counters: dict[str, dict[str, int]]
    """Per graph (teleop, deploy) whose follower reported: its safety filter's rejections and clamps
    (the follower reports only the non-zero ones)."""
    policy_counters: dict[str, int]
    real_time_chunking: dict[str, str]
    """The inference node's last report: whether the server honoured RTC, the chunk length, the frozen steps."""
    chunks_received: int
    malformed_messages: int
    goals_checked: int = 0
    """Emulated follower: Goal_Position writes that reached its servos (the emulator's record)."""
    goals_outside_limits: int = 0
    """...of which outside the follower's calibrated range: must be 0."""
    demos_saved: dict[str, int] = field(default_factory=dict)
    """Demos in the files as written: hdf5_demos, lerobot_episodes."""
    twin_goals: dict[str, dict] = field(default_factory=dict)
    """Each twin goal: its figure, the goal and whether it was met."""
    validation: dict[str, dict] = field(default_factory=dict)
    """so101-dataset validate per target: path, ok, problems, notes."""
    augmentation: dict = field(default_factory=dict)
    """so101-mimicgen's report of the augmentation phase (trials, success rate, demos per minute, files),
    or {"skipped": why}."""
    provenance: dict = field(default_factory=dict)
    """The final dataset's chain (so101-dataset provenance --json, plus `dataset` and the printed `tree`)."""
    files: dict[str, str] = field(default_factory=dict)

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps(asdict(self), indent=2, default=float))
        return path


def summarize(trace: Trace, emulated: bool, malformed: int) -> DemoSummary:
    demos = report.episodes(trace)
    deploy = [trace.phase(report.DEPLOY)] if any(p.name == report.DEPLOY for p in trace.phases) else []
    graphs = trace.final_diagnostics
    twin = report.tracking_error(trace.follower, trace.twin, demos + deploy)
    echo = report.twin_lag(trace, demos + deploy).percentiles_ms()
    return DemoSummary(
        emulated=emulated,
        episodes_recorded=len(demos),
        rates_hz={
            "leader_states": report.rate_hz(trace.leader, demos),
            "follower_states": report.rate_hz(trace.follower, demos + deploy),
            "teleop_commands": report.rate_hz(trace.commands, demos),
            "policy_commands": report.rate_hz(trace.commands, deploy),
            "twin_states": report.rate_hz(trace.twin, demos + deploy),
        },
        tracking_rad={
            "follower_vs_leader (teleop)": _tracking(report.tracking_error(trace.leader, trace.follower, demos)),
            "twin_vs_follower": _tracking(report.tracking_error(trace.follower, trace.twin, demos + deploy)),
            "follower_vs_policy_command (deploy)": _tracking(
                report.tracking_error(trace.commands, trace.follower, deploy)
            ),
        },
        latency_ms={
            "leader_read_to_teleop_command": report.leader_to_command(trace, demos).percentiles_ms(),
            "leader_read_to_delivery": report.delivery(trace.leader, demos).percentiles_ms(),
            "follower_to_twin_echo": report.twin_lag(trace, demos + deploy).percentiles_ms(),
            "observation_to_policy_chunk": report.chunk_latency(trace).percentiles_ms(),
        },
        safety_counters={
            graph: report.counters(statuses["follower"], SAFETY_PREFIXES)
            for graph, statuses in graphs.items()
            if "follower" in statuses
        },
        policy_counters=report.counters(graphs.get(report.DEPLOY, {}).get("inference", {}), POLICY_PREFIXES),
        real_time_chunking={key: value for key, value in graphs.get(report.DEPLOY, {}).get("inference", {}).items()
                            if key in RTC_VALUES},
        chunks_received=len(trace.chunks),
        malformed_messages=malformed,
        twin_goals={
            "twin_vs_follower_p99_rad": {"value": twin.worst_p99, "goal": TWIN_TRACKING_GOAL_RAD,
                                         "met": bool(twin.worst_p99 <= TWIN_TRACKING_GOAL_RAD)},
            "follower_to_twin_echo_p50_ms": {"value": echo.get("p50_ms", float("nan")), "goal": TWIN_ECHO_GOAL_MS,
                                             "met": bool(echo.get("p50_ms", float("inf")) <= TWIN_ECHO_GOAL_MS)},
        },
    )


def print_summary(summary: DemoSummary, say: Callable[[str], None]) -> None:
    say("")
    say("summary")
    say("  rates (Hz)        " + "  ".join(f"{k} {v:.1f}" for k, v in summary.rates_hz.items()))
    say("  tracking |error| (rad): mean / p99 of the worst joint, samples")
    for name, figures in summary.tracking_rad.items():
        say(f"    {name:38s} {figures['worst_mean']:.4f} / {figures['worst_p99']:.4f}  ({figures['samples']})")
    say("  latency (ms): p50 / p99 / max, samples")
    for name, figures in summary.latency_ms.items():
        if figures.get("count"):
            say(f"    {name:38s} {figures['p50_ms']:.1f} / {figures['p99_ms']:.1f} / {figures['max_ms']:.1f}"
                f"  ({figures['count']})")
        else:
            say(f"    {name:38s} no samples")
    for graph, counts in summary.safety_counters.items():
        say(f"  follower safety ({graph:6s}) {counts or 'no clamps, no rejections'}")
    say(f"  policy stream           {summary.policy_counters or 'no report'}; {summary.chunks_received} chunks seen")
    rtc = summary.real_time_chunking
    say(f"  real-time chunking      {rtc.get('rtc', 'no report')}; {rtc.get('chunk_length', '?')}-step chunks, "
        f"{rtc.get('rtc_frozen_steps', '?')} frozen steps at the end")
    if summary.emulated:
        say(f"  emulator record         {summary.goals_checked} goals reached the follower servos, "
            f"{summary.goals_outside_limits} outside the calibrated range")
    say(f"  malformed messages      {summary.malformed_messages}")
    say(f"  demos saved             {summary.demos_saved}")
    augmentation = summary.augmentation
    if "trials" in augmentation:
        say(f"  MimicGen (twin)         {augmentation['kept']} generated demos from {augmentation['trials']} trials "
            f"({augmentation['success_rate']:.0%} success), {augmentation['demos_per_min']:.1f} demos/min "
            f"with {augmentation['workers']} workers")
    elif augmentation:
        say(f"  MimicGen (twin)         skipped: {augmentation['skipped']}")
    for name, goal in summary.twin_goals.items():
        say(f"  twin goal {name:30s} {goal['value']:.4g} (goal ≤ {goal['goal']:g}): {'met' if goal['met'] else 'MISSED'}")
    for target, verdict in summary.validation.items():
        state = "OK" if verdict["ok"] else f"{len(verdict['problems'])} problem(s)"
        say(f"  validate --for {target:14s} {state}  ({verdict['path']})")
    if summary.provenance:
        state = "verified" if summary.provenance["ok"] else f"BROKEN ({len(summary.provenance['problems'])} problem(s))"
        say(f"  provenance              chain of {len(summary.provenance['tree'])} datasets {state}  "
            f"({summary.provenance['dataset']})")
    say("  files")
    for name, path in summary.files.items():
        say(f"    {name:22s} {path}")


def _tracking(error: report.TrackingError) -> dict:
    worst_mean = max(error.mean.values())
    return {"mean": error.mean, "p99": error.p99, "worst_mean": worst_mean, "worst_p99": error.worst_p99,
            "samples": error.samples}
