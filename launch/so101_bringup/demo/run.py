"""`so101 demo`: teleop → MuJoCo twin → recorded seed demos → replayed policy, with a report.

Phase 1 runs the twin graph (leader, follower, teleop, MuJoCo twin, twin bridge, recorder): the
demo engages teleop, then records `episodes` demos through the recorder's services while the
operator works the leader (emulated: the scripted pick-and-place of operator.py), with the demo's
task spec and the recorder's leisaac profile, so the HDF5 file is ready for Isaac Lab Mimic. The
LeRobot dataset is then exported in Isaac-GR00T's layout, and each file is checked by
`so101-dataset validate` for the tool that reads it (the verdicts are printed). The augmentation
phase multiplies the seed demos with MimicGen on the twin (so101-mimicgen, two worker processes:
generated demos, their LeRobot copy and a report in mimicgen/). Every dataset carries its
provenance, and the final one's chain back to the seed demos is verified and printed as
`so101-dataset provenance` prints it. Phase 2 serves
the most complete recorded demo (its LeRobot dataset, as GR00T fine-tuning reads it) with the replay
backend on a loopback port, runs the deploy graph (follower, inference node) with the twin
again, and lets the policy drive the follower with real-time chunking (the inference node's
canary finds that the replay backend honours it). A monitor node records every topic; at the end
the summary is printed and the report written to a new folder of its own.

Emulated arms are BusEmulators the demo starts itself (arms.py), so they outlive the phases'
graphs. Both graphs share the demo's ROS context and domain.
"""
from __future__ import annotations

import contextlib
import datetime
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import h5py
import numpy as np
from rclpy.context import Context

from so101_bringup.arguments import DeployArgs, TwinArgs
from so101_bringup.demo import operator, plots, report
from so101_bringup.demo.arms import Arms, goals_outside_range, open_arms
from so101_bringup.demo.config import DEMO_DOMAIN_ID, DemoConfig
from so101_bringup.demo.monitor import DemoMonitor
from so101_bringup.demo.summary import DemoSummary, print_summary, summarize
from so101_bringup.demo.trace import Phase
from so101_bringup.graph_spec import Graph
from so101_bringup.launch_graphs import deploy_graph, rerun_graph, twin_graph, with_simulator
from so101_bringup.param_files import effective_parameters
from so101_bringup.runner import GraphRunError, GraphRunner
from so101_bringup.share import config_path
from so101_calibration import ArmRole, read_calibration_file
from so101_calibration.interface_contract import (
    LOOPBACK_HOST,
    POLICY_RUN,
    RECORDER_START,
    RECORDER_STOP,
    SIM_CAMERA_IMAGE,
    SIM_RESET_OBJECTS,
    TELEOP_ENGAGE,
    camera_topics,
)
from so101_policy import PolicyServer, Protocol, ServerConfig
from so101_policy.embodiment.data_config import default_data_config
from so101_policy.embodiment.joint_units import JointUnits
from so101_policy.server.backends.replay import ReplayPolicy
from so101_policy.server.datasets import RecordedEpisode, read_episode
from so101_sim_bridge.bridge import TwinBridgeConfig
from so101_sim_bridge.datasets import Report, lerobot_to_gr00t, validate
from so101_sim_bridge.fastdds_profile import PROFILE_FILE, profile_environment
from so101_sim_bridge.mimicgen import GenerationConfig, MimicGenError, generate
from so101_sim_bridge.mimicgen.config import GR00T_NAME
from so101_sim_bridge.provenance import ChainReport, chain_json, tree_lines, verify_chain
from so101_sim_bridge.recorder.isaaclab_layout import LEISAAC_PROFILE
from so101_sim_bridge.tasks import DEMO_TASK
from so101_sim_bridge.twin import MujocoTwinNodeConfig

Say = Callable[[str], None]
PROTOCOL = Protocol.N1_7
STARTUP_TIMEOUT_S = 60.0
"""Nodes up and publishing: the MuJoCo twin's first software-rendered frames take a few seconds."""
ENGAGE_TOLERANCE_RAD = 0.05
PROGRESS_PERIOD_S = 2.0
REPLAY_TAIL_S = 2.0
RECORD_TAIL_S = 1.0
"""Recording goes on this long after the scripted pick-and-place ends: the recorder decides a step
max_latency_s (0.5 s) after its time, so stopping at once would cut the move back home short."""
TWIN_LOAD = (("twin_bridge", "publish_rate_hz", 30.0), ("mujoco_twin", "physics_rate_hz", 50.0))
"""On 2 cores the twin's software-rendered cameras need most of a core: the twin is commanded at
most at 30 Hz instead of at every follower state and reports its state at 50 Hz (physics still
steps 2 ms up to wall time), which left its cameras 2-3 fps without (the recorder dropped most
steps). The twin's servo model carries each command forward to the present (twin.py), so it
tracks the follower between commands."""
RECORDED_IMAGE_SIZE = (MujocoTwinNodeConfig.camera_height, MujocoTwinNodeConfig.camera_width)
"""The leisaac profile's HDF5 images stay at the twin's render size: resized to LeIsaac's 480x640
they would be 4x the bytes at 60 rows per second (validate notes the size)."""
RECORD_FPS = 4
"""Under the demo's load the wrist camera renders at 4.5-6 fps (render p50 140-200 ms, stalls to
~1 s); at 5 fps a third of the steps had no frame and were dropped."""
AUGMENT_WORKERS = 2
"""so101-mimicgen's worker processes in the augmentation phase: the demo's 2 cores (the graphs are stopped)."""
AUGMENT_FAILURES_PER_DEMO = 3
"""The augmentation gives up after this many failed trials per wanted demo (80 % succeed from good seeds):
seeds recorded under heavy load can fail every trial, and the demo must still end in time."""
SIM_WRIST_TOPIC = SIM_CAMERA_IMAGE.format(name="wrist")
SIM_CAMERAS = tuple(f"{name}={SIM_CAMERA_IMAGE.format(name=name)}" for name in ("front", "wrist"))
"""The twin's cameras (mujoco_twin.yaml) under the data config's camera names."""
# The seed demos record the wrist camera only: software-rendered (OSMesa), the front camera (the
# whole arm in view, 400k triangles) renders at 8.6 fps on an idle core here and at ~2 fps next to
# the teleop graph, and the twin renders its cameras in turn, so both ran at 2 fps and the recorder
# dropped most 5 fps steps. The deploy graph renders both (the policy's observation needs both).


def run_demo(config: DemoConfig, say: Say = print) -> DemoSummary:
    run_dir = _new_run_dir(config.out_dir)
    say(f"so101 demo: {'emulated arms' if config.emulated else 'real arms'}; writing to {run_dir}")
    domain_id = config.domain_id if config.domain_id is not None else (DEMO_DOMAIN_ID if config.emulated else None)
    with contextlib.ExitStack() as stack:
        arms = stack.enter_context(open_arms(config, say))
        context = Context()
        context.init(args=[], domain_id=domain_id)
        stack.callback(context.try_shutdown)
        say(f"ROS domain {context.get_domain_id()}: watch it with `so101 status --domain-id {context.get_domain_id()}`")
        demo = _Demo(config, arms, context, run_dir, say)
        stack.callback(demo.monitor.close)
        demo.record_seed_demos()
        demo.export_and_validate()
        demo.augment_seed_demos()
        demo.show_provenance(demo.final_dataset)
        demo.deploy_replay()
    return demo.finish()


class _Demo:
    """The two phases and the report; one instance per run."""

    def __init__(self, config: DemoConfig, arms: Arms, context: Context, run_dir: Path, say: Say):
        self.config, self.arms, self.context, self.run_dir, self.say = config, arms, context, run_dir, say
        self.hdf5_path = run_dir / "demos" / "so101_demos.hdf5"
        self.lerobot_root = run_dir / "demos" / "so101_lerobot"
        self.gr00t_root = run_dir / "demos" / "so101_gr00t"
        self.mimicgen_dir = run_dir / "mimicgen"
        self.final_dataset = self.gr00t_root
        """The demo's final training set: the GR00T export of the generated demos, else of the seed demos."""
        self.augmentation: dict = {}
        self.reports: list[Report] = []
        self.provenance: ChainReport | None = None
        self.twin_args = TwinArgs(
            leader_port=arms.leader_port, follower_port=arms.follower_port,
            leader_calibration=arms.leader_calibration, follower_calibration=arms.follower_calibration,
            leader_id=arms.leader_id, follower_id=arms.follower_id,
        )
        twin = twin_graph(self.twin_args) + self._viewer((SIM_WRIST_TOPIC,))
        bridge = TwinBridgeConfig(**effective_parameters(twin.node("twin_bridge")))
        self.monitor = DemoMonitor(context, bridge.build_mapping(ArmRole.FOLLOWER), bridge.state_topic).start()
        self.trace = self.monitor.trace
        self.twin_graph = twin.with_parameters([
            *TWIN_LOAD,
            ("mujoco_twin", "cameras", ("wrist",)),
            ("recorder", "cameras", (f"wrist={SIM_WRIST_TOPIC}",)),
            ("recorder", "fps", RECORD_FPS),
            # Between the phases the follower holds its pose: released, a real arm would drop, and
            # the deploy graph's follower would start (and the replay refuse to jump) from wherever it fell.
            ("follower", "torque_off_on_shutdown", False),
            ("recorder", "hdf5_path", str(self.hdf5_path)),
            ("recorder", "lerobot_root", str(self.lerobot_root)),
            ("recorder", "keyboard", False),
            ("recorder", "instruction", config.instruction),
            ("recorder", "task", DEMO_TASK),
            ("recorder", "profile", LEISAAC_PROFILE),
            ("recorder", "image_size", RECORDED_IMAGE_SIZE),
        ])
        self._runner: GraphRunner | None = None
        """The graph running now (None between the graphs), whose node processes _check_nodes watches."""
        self._script = (
            operator.leader_script(read_calibration_file(arms.leader_calibration)) if arms.leader_bus else None
        )
        """The scripted operator's waypoints for the emulated leader (the same for every demo)."""

    # --- phase 1 -------------------------------------------------------------------------------

    def record_seed_demos(self) -> None:
        self.say(f"phase 1: teleop with the MuJoCo twin; recording {self.config.episodes} seed demos")
        with self._running(report.TELEOP, self.twin_graph):
            self._wait_for(lambda: len(self.trace.leader) and len(self.trace.follower) and len(self.trace.twin),
                           "leader, follower and twin joint states", STARTUP_TIMEOUT_S)
            self.say(f"  {TELEOP_ENGAGE.name}: {self.monitor.call_until_accepted(TELEOP_ENGAGE, True)}")
            self._wait_for(self._follower_on_leader, f"the follower within {ENGAGE_TOLERANCE_RAD} rad of the leader",
                           STARTUP_TIMEOUT_S)
            for index in range(1, self.config.episodes + 1):
                self._record_one(index)
            self.monitor.call(TELEOP_ENGAGE, False)
        self.say(f"  saved: {self.hdf5_path} and {self.lerobot_root}; the follower holds its pose for the deploy graph")

    def export_and_validate(self) -> None:
        """The GR00T export of the LeRobot dataset, then each file checked for the tools that read it."""
        episodes = lerobot_to_gr00t(self.lerobot_root, self.gr00t_root, show_progress=False)
        self.say(f"GR00T export: {self.gr00t_root} ({episodes} episodes, LeRobot v2.1 + modality.json, H.264)")
        checks = (("isaaclab", self.hdf5_path), ("leisaac-mimic", self.hdf5_path), ("lerobot", self.lerobot_root),
                  ("gr00t", self.gr00t_root))
        for target, path in checks:
            report = validate(path, target)
            self.reports.append(report)
            self.say(f"  so101-dataset validate {path.name} --for {target}: {report.verdict()}")
            for problem in report.problems:
                self.say(f"    problem: {problem}")

    def show_provenance(self, dataset: Path) -> None:
        """The final dataset's chain back to the seed demos, verified, as `so101-dataset provenance` prints it."""
        self.provenance = verify_chain(dataset, show_progress=False)
        self.say(f"provenance: so101-dataset provenance {dataset}")
        for line in tree_lines(self.provenance.root):
            self.say(f"  {line}")
        for problem in self.provenance.problems:
            self.say(f"  problem: {problem}")
        self.say(f"  chain {'verified' if self.provenance.ok else 'BROKEN'}")

    def augment_seed_demos(self) -> None:
        """MimicGen on the twin (so101-mimicgen): the seed demos multiplied in worker processes, with its report.

        The follower holds meanwhile. Seed demos whose subtask signals never rose (a grasp missed
        under load) are left out by the generator; with none usable the phase is skipped with the
        reason, like the validators' verdicts: the replay still runs.
        """
        count = self.config.generated_demos
        if not count:
            return
        self.say(f"augmentation: MimicGen on the MuJoCo twin, {count} demos from the seed demos "
                 f"({AUGMENT_WORKERS} worker processes)")
        calibration = self.arms.follower_calibration
        config = GenerationConfig(
            seeds=(self.hdf5_path,), out=self.mimicgen_dir, num_demos=count, workers=AUGMENT_WORKERS,
            max_failures=AUGMENT_FAILURES_PER_DEMO * count, calibration=Path(calibration) if calibration else None,
            lerobot=calibration is not None, show_progress=sys.stdout.isatty(),
        )
        try:
            summary = generate(config, say=lambda line: self.say(f"  {line}"))
        except MimicGenError as exc:
            self.augmentation = {"skipped": str(exc)}
            self.say(f"  skipped: {exc}")
            return
        self.augmentation = summary.report
        tally = summary.tally
        self.say(f"  {tally.kept} generated demos from {tally.trials} trials ({tally.success_rate:.0%} success) in "
                 f"{summary.seconds:.0f} s ({summary.demos_per_min:.1f} per minute): {summary.files['hdf5']}"
                 + (f", {summary.files['lerobot']}" if "lerobot" in summary.files else ""))
        self.say(f"  report: {summary.files['report_png']}")
        if tally.kept:
            report = validate(config.hdf5_path, "isaaclab")
            self.say(f"  so101-dataset validate {config.hdf5_path.name} --for isaaclab: {report.verdict()}")
            if "lerobot" in summary.files:
                self.final_dataset = self.mimicgen_dir / GR00T_NAME
                episodes = lerobot_to_gr00t(Path(summary.files["lerobot"]), self.final_dataset, show_progress=False)
                verdict = validate(self.final_dataset, "gr00t").verdict()
                self.say(f"  GR00T export of the generated demos: {self.final_dataset} ({episodes} episodes); "
                         f"so101-dataset validate {GR00T_NAME} --for gr00t: {verdict}")
        else:
            self.say(f"  no trial succeeded (failures per subtask: {tally.failures_per_subtask}): the seed demos, "
                     "recorded under this machine's load, are probably poor; see the report")

    def _record_one(self, index: int) -> None:
        name = f"{report.EPISODE_PREFIX}{index}/{self.config.episodes}"
        self.monitor.call(SIM_RESET_OBJECTS)  # the operator puts the cube back: every demo starts from the same scene
        self.monitor.call_until_accepted(RECORDER_START, timeout_s=STARTUP_TIMEOUT_S)
        start = time.time()
        if self._script is not None:
            self.arms.leader_bus.play_leader_script(self._script, loop=False)
            duration = operator.script_duration_s() + RECORD_TAIL_S
            self.say(f"  {name}: the scripted operator does the pick-and-place ({duration:.1f} s)")
        else:
            duration = self.config.episode_s
            self.say(f"  {name}: recording for {duration:.0f} s: do the task with the leader now")
        self._show_progress(name, duration)
        self.say(f"  {RECORDER_STOP.name}: {self.monitor.call(RECORDER_STOP, True)}")
        self.trace.phases.append(Phase(name, start, time.time()))

    def _twin_on_follower(self) -> bool:
        twin, follower = self.trace.twin.latest(), self.trace.follower.latest()
        return twin is not None and follower is not None and np.abs(twin - follower).max() < ENGAGE_TOLERANCE_RAD

    def _follower_on_leader(self) -> bool:
        leader, follower = self.trace.leader.latest(), self.trace.follower.latest()
        return leader is not None and follower is not None and np.abs(follower - leader).max() < ENGAGE_TOLERANCE_RAD

    # --- phase 2 -------------------------------------------------------------------------------

    def deploy_replay(self) -> None:
        episode = _most_complete_episode(self.lerobot_root)
        calibration = read_calibration_file(self.arms.follower_calibration) if self.arms.follower_calibration else None
        policy = ReplayPolicy(episode, default_data_config(PROTOCOL), PROTOCOL, JointUnits.DEGREES, calibration)
        server = PolicyServer(policy, ServerConfig(protocol=PROTOCOL, host=LOOPBACK_HOST, port=0, poll_interval_s=0.02))
        thread = server.serve_in_thread("demo-policy-server")
        duration = self.config.deploy_s or len(episode.actions) / episode.fps + REPLAY_TAIL_S
        self.say(f"phase 2: replay backend serving {episode.source} ({len(episode.actions)} frames at "
                 f"{episode.fps:g} fps) on {server.endpoint}; the policy drives the follower for {duration:.1f} s "
                 "with real-time chunking (each request carries the plan's tail; the replay backend keeps its "
                 "frozen steps as N1.7's action head does)")
        try:
            with self._running(report.DEPLOY, self._deploy_graph(server.port, episode.fps)):
                started = len(self.trace.twin)
                self._wait_for(lambda: self._policy_inputs_seen() and len(self.trace.twin) > started
                               and self._twin_on_follower(),
                               "the twin on the follower, and its camera images at the inference node",
                               STARTUP_TIMEOUT_S)
                start = time.time()
                self.say(f"  {POLICY_RUN.name}: {self.monitor.call_until_accepted(POLICY_RUN, True)}")
                self._show_progress(report.DEPLOY, duration)
                self.monitor.call(POLICY_RUN, False)
                self._explain_refusals()
                self.trace.phases.append(Phase(report.DEPLOY, start, time.time()))
        finally:
            server.stop()
            thread.join(10.0)

    def _explain_refusals(self) -> None:
        """Say why the follower did not move when every chunk was refused for starting too far away."""
        counters = report.counters(self.trace.diagnostics.get("inference", {}), ("chunks_accepted", "rejected_jump"))
        if counters.get("rejected_jump_from_current") and not counters.get("chunks_accepted"):
            self.say("  every chunk was refused: the replayed demo starts too far from where the follower is "
                     "(inference max_start_jump_rad); start and end each demo at the same rest pose")

    def _policy_inputs_seen(self) -> bool:
        """The inference node has reported a frame of every camera (its /diagnostics lists their ages)."""
        reported = self.trace.diagnostics.get("inference", {})
        return all(f"camera_{name}_age_s" in reported for name in camera_topics(SIM_CAMERAS))

    def _deploy_graph(self, port: int, fps: float) -> Graph:
        args = DeployArgs(
            follower_port=self.arms.follower_port, follower_calibration=self.arms.follower_calibration,
            follower_id=self.arms.follower_id, cameras=False, policy_port=port, policy_protocol=PROTOCOL.value,
            instruction=self.config.instruction,
        )
        deploy = deploy_graph(args)
        viewer = self._viewer(tuple(camera_topics(SIM_CAMERAS).values()))
        return (with_simulator(deploy, self.twin_args) + viewer).with_parameters([
            *TWIN_LOAD,
            ("inference", "cameras", SIM_CAMERAS),
            ("inference", "action_hz", float(fps)),  # the replayed dataset's rate
            ("inference", "units", JointUnits.DEGREES.value),
            ("inference", "max_observation_age_s", 1.0),  # the software-rendered front camera: 2-8 fps
            # The validator's step bound is per action: 20° suits 30 fps checkpoints; a 4 fps demo
            # moves up to ~0.5 rad between frames (more across a dropped step). The follower's
            # velocity limit still bounds the motion.
            ("inference", "max_step_rad", 1.0),
        ])

    def _viewer(self, image_topics: tuple[str, ...]) -> Graph:
        """With --rerun, the rerun node showing the twin's cameras (each graph starts its own; the
        page reconnects when the deploy graph's starts)."""
        return rerun_graph("", image_topics) if self.config.rerun else Graph()

    # --- report --------------------------------------------------------------------------------

    def finish(self) -> DemoSummary:
        summary = summarize(self.trace, self.config.emulated, self.monitor.malformed)
        if self.arms.follower_bus is not None:
            summary.goals_checked, summary.goals_outside_limits = goals_outside_range(self.arms)
        summary.demos_saved = _demos_saved(self.hdf5_path, self.lerobot_root)
        summary.validation = {r.target: {"path": str(r.path), "ok": r.ok, "problems": r.problems, "notes": r.notes}
                              for r in self.reports}
        summary.augmentation = self.augmentation
        if self.provenance is not None:
            summary.provenance = {"dataset": self.provenance.root.path, **chain_json(self.provenance),
                                  "tree": tree_lines(self.provenance.root)}
        latencies = {
            "leader read → teleop command": report.leader_to_command(self.trace, report.episodes(self.trace)),
            "follower → twin echo": report.twin_lag(self.trace, self.trace.phases),
            "observation → policy chunk": report.chunk_latency(self.trace),
        }
        files = {
            "hdf5 (Isaac Lab)": self.hdf5_path,
            "lerobot dataset": self.lerobot_root,
            "gr00t export": self.gr00t_root,
            **({"final dataset": self.final_dataset} if self.final_dataset != self.gr00t_root else {}),
            "trajectories plot": plots.save(plots.trajectories_figure(self.trace), self.run_dir / "trajectories.png"),
            "deploy plot": plots.save(plots.deploy_figure(self.trace), self.run_dir / "deploy_chunks.png"),
            "latency plot": plots.save(plots.latency_figure(latencies), self.run_dir / "latency.png"),
            "trace": self.trace.save(self.run_dir / "trace.npz"),
        }
        summary.files = {name: str(path) for name, path in files.items()}
        summary.files["summary"] = str(self.run_dir / "summary.json")
        summary.write(self.run_dir / "summary.json")
        print_summary(summary, self.say)
        return summary

    # --- helpers -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _running(self, name: str, graph: Graph) -> Iterator[None]:
        nodes = ", ".join(node.name for node in graph.nodes)
        self.say(f"  starting {nodes}")
        try:
            # One process per node, as `ros2 launch` runs them: in one interpreter the nodes share one
            # GIL, and the twin's software rendering (100+ ms per frame) with the recorder and the
            # monitor slowed the arms' 100 Hz loops to 60-70 Hz and dropped 40% of the recorded steps.
            every_node = [node.name for node in graph.nodes]
            with GraphRunner(graph, context=self.context, processes=every_node,
                             process_environment=_node_environment()) as runner:
                self._runner = runner
                yield
                self.say(f"  stopping the {name} graph")
        finally:
            self._runner = None
            self.trace.close_graph(name)

    def _wait_for(self, condition: Callable[[], object], what: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            self._check_nodes()
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {what} after {timeout_s:.0f} s")
            time.sleep(0.05)  # polling a condition the monitor's thread fills

    def _check_nodes(self) -> None:
        """GraphRunError as soon as a node process has exited (its own log says why)."""
        exited = self._runner.exited_processes() if self._runner is not None else {}
        if exited:
            raise GraphRunError(f"node(s) stopped while the demo ran: {exited} (exit codes; their log lines above)")

    def _show_progress(self, name: str, duration_s: float) -> None:
        """Let `duration_s` pass, printing one status line every PROGRESS_PERIOD_S."""
        start = time.monotonic()
        while (elapsed := time.monotonic() - start) < duration_s:
            time.sleep(min(PROGRESS_PERIOD_S, duration_s - elapsed))  # the demo's own pace, not a sync
            self._check_nodes()
            self.say(f"    [{name} {min(time.monotonic() - start, duration_s):4.1f}/{duration_s:.1f} s] {self._status()}")

    def _status(self) -> str:
        leader, follower, twin = self.trace.leader.latest(), self.trace.follower.latest(), self.trace.twin.latest()
        follower_diag = self.trace.diagnostics.get("follower", {})
        parts = [f"follower {float(follower_diag.get('rate_hz', 'nan')):.0f} Hz"]
        if leader is not None and follower is not None:
            parts.append(f"|follower−leader| {np.abs(follower - leader).max():.3f} rad")
        if twin is not None and follower is not None:
            parts.append(f"|twin−follower| {np.abs(twin - follower).max():.3f} rad")
        parts.append(f"chunks {len(self.trace.chunks)}")
        clamps = sum(report.counters(follower_diag, ("safety_clamped", "safety_rejected")).values())
        parts.append(f"safety clamps {clamps}")
        return "  ".join(parts)


def _node_environment() -> dict[str, str]:
    """For the node processes: Fast DDS's default shared-memory segments are too small for camera
    images between processes (README, "What runs here"), so the profile sim_bridge ships under both
    of Fast DDS's variable names, unless one is set already (so101_sim_bridge.fastdds_profile); and one
    llvmpipe render thread (OSMesa's default, one per core, competes with the other nodes: render p50
    205 → 142 ms, measured next to the teleop graph)."""
    profile = config_path(PROFILE_FILE, package="so101_sim_bridge")
    return {"LP_NUM_THREADS": os.environ.get("LP_NUM_THREADS", "1"), **profile_environment(profile)}


def _most_complete_episode(lerobot_root: Path) -> RecordedEpisode:
    """The recorded demo with the most frames: the recorder drops a step when a sample is missing
    (a camera frame late on a loaded machine), and a demo missing steps replays with jumps."""
    total = int(json.loads((lerobot_root / "meta" / "info.json").read_text())["total_episodes"])
    return max((read_episode(lerobot_root, index, JointUnits.DEGREES) for index in range(total)),
               key=lambda episode: len(episode.actions))


def _demos_saved(hdf5_path: Path, lerobot_root: Path) -> dict[str, int]:
    saved = {}
    if hdf5_path.exists():
        with h5py.File(hdf5_path, "r") as file:
            saved["hdf5_demos"] = sum(1 for name in file["data"] if name.startswith("demo_"))
    info = lerobot_root / "meta" / "info.json"
    if info.exists():
        saved["lerobot_episodes"] = int(json.loads(info.read_text())["total_episodes"])
    return saved


def _new_run_dir(out_dir: Path) -> Path:
    """<out_dir>/<date-time>/, with <out_dir>/latest pointing at it: earlier runs are never overwritten."""
    stem = datetime.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    for suffix in ("", *(f"_{n}" for n in range(2, 100))):  # two runs within one second
        run_dir = out_dir / f"{stem}{suffix}"
        try:
            run_dir.mkdir(parents=True)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"{out_dir}: no free run folder for {stem}")
    latest = out_dir / "latest"
    if latest.is_symlink() or not latest.exists():
        latest.unlink(missing_ok=True)
        latest.symlink_to(run_dir.name)
    return run_dir
