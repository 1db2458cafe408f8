"""Benchmark: recording two 640x480 cameras and joint states at 30 Hz, through ROS, on this machine.

Run as `python benchmarks/record_throughput.py`. The recorder node runs as its own process (as
`ros2 run so101_sim_bridge recorder_node` runs it) with its default outputs, Isaac Lab HDF5
(camera frames uncompressed, joints lzf) and a LeRobot v3 dataset (H.264, preset superfast), on a
ROS domain of its own. This process publishes what the
follower and camera nodes would: follower/joint_states and follower/joint_commands at 100 Hz,
cameras/wrist and cameras/front as 640x480 rgb8 images at 30 Hz (sensor-data QoS). The images
are the MuJoCo twin's own renders of both cameras in a few poses with camera-like noise added
(±4 levels), so they compress like camera frames rather than like a flat test pattern. One
episode of --seconds is started and stopped through /recorder/start and /recorder/stop (the
topics stop just before it). Samples are stamped with their scheduled times, as a camera's
capture clock and the follower's bus reads are regular, so this process's own scheduling jitter
under load does not count against the recorder. Both processes use
sim_bridge/config/fastdds_large_messages.xml (unless a Fast DDS profile variable is set): with
Fast DDS's default 512 KB shared-memory segments no 640x480 frame crosses processes.
Reported: steps recorded and dropped (goal 0 dropped), late samples, frames published and
received, samples refused by a writer fallen behind, write throughput (raw frame data recorded
per second, and bytes on disk), how long stop took (copy into the HDF5 file, video remux), and
the recorder process's peak memory (VmHWM) and CPU time.

Baseline, measured in the same run: the writers' capacity without ROS or a clock, the same
frames fed straight into a DemoRecorder with the same writers for --capacity-steps steps (stop
included); its steps per second over 30 is the headroom the live recording has (goal ≥ 1.3).
Then where the time goes: CPU time per 640x480 frame of each encoder and HDF5 filter the
recorder offers, on the same frames (--no-components skips it). Prints a table, then one JSON line.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from so101_sim_bridge.fastdds_profile import PROFILE_FILE, profile_environment

sys.path.insert(0, str(Path(__file__).parent))
from _emulator_process import LOCAL_DISCOVERY  # noqa: E402

FPS = 30
JOINT_RATE_HZ = 100.0
WIDTH, HEIGHT = 640, 480
CAMERAS = ("wrist", "front")
VARIANTS = 30
"""Distinct frames per camera, published in turn (one second of video)."""
NOISE = 4
START_TIMEOUT_S = 60.0
MB = 1024 * 1024
DROPPED_FOR = "dropped_for_"
FASTDDS_PROFILE = Path(__file__).resolve().parents[1] / "sim_bridge" / "config" / PROFILE_FILE


def camera_frames() -> dict[str, list[np.ndarray]]:
    """VARIANTS frames per camera: the twin's view in a few poses, with sensor-like noise."""
    from so101_sim_bridge.twin import MujocoTwin, TwinCameraConfig, TwinConfig

    rng = np.random.default_rng(0)
    frames: dict[str, list[np.ndarray]] = {camera: [] for camera in CAMERAS}
    config = TwinConfig(cameras=tuple(TwinCameraConfig(camera, WIDTH, HEIGHT) for camera in CAMERAS))
    with MujocoTwin(config) as twin:
        for pose in range(5):
            pose_targets = [0.3 * pose - 0.6, 0.2 * pose, -0.3 * pose]
            twin.set_targets(["shoulder_pan", "shoulder_lift", "elbow_flex"], pose_targets)
            twin.step(0.5)
            views = {camera: twin.render(camera).astype(np.int16) for camera in CAMERAS}
            for _ in range(VARIANTS // 5):
                for camera, view in views.items():
                    noisy = view + rng.integers(-NOISE, NOISE + 1, view.shape, dtype=np.int16)
                    frames[camera].append(np.clip(noisy, 0, 255).astype(np.uint8))
    return frames


def disk_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def writer_capacity(frames: dict[str, list[np.ndarray]], steps: int, out: Path) -> tuple[float, float]:
    """Steps per second the recorder's writers take without ROS or real time (the baseline), and CPU ms per step."""
    from so101_bringup.share import config_path
    from so101_hardware.cameras import Frame
    from so101_sim_bridge.recorder.settings import RecorderNodeConfig, open_recorder

    config = RecorderNodeConfig(hdf5_path=str(out / "capacity.hdf5"), lerobot_root=str(out / "capacity_lerobot"),
                                arm_id="emulated_follower", calibration=str(config_path("calibration")))
    recorder, _mapping = open_recorder(config)
    with recorder:
        recorder.start(0.0, "benchmark")
        started, cpu_started = time.perf_counter(), time.process_time()
        for i in range(steps):
            t = i / FPS
            recorder.add_joint_state(t, np.full(6, 0.001 * i))
            recorder.add_action(t, np.full(6, 0.001 * i))
            for camera in CAMERAS:
                recorder.add_frame(camera, Frame(frames[camera][i % VARIANTS], i, t, t))
            recorder.advance(t)
        summary = recorder.stop((steps - 1) / FPS, success=True)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    if summary.steps != steps:
        raise RuntimeError(f"the baseline recorded {summary.steps} of {steps} steps: {summary.alignment}")
    return steps / elapsed, cpu / steps * 1e3


def component_costs(frames: list[np.ndarray], out: Path, count: int = 60) -> dict[str, float]:
    """CPU ms per frame of each video encoder (default settings) and HDF5 filter the recorder offers."""
    import h5py

    from so101_sim_bridge.recorder.hdf5_writer import IMAGE_COMPRESSIONS, Hdf5WriterConfig
    from so101_sim_bridge.recorder.video import VIDEO_CODECS, EpisodeVideo, VideoConfig

    costs: dict[str, float] = {}
    for codec in VIDEO_CODECS:
        video = EpisodeVideo(out / f"{codec}.mp4", WIDTH, HEIGHT, FPS, VideoConfig(codec=codec))
        started = time.process_time()
        for i in range(count):
            video.add(frames[i % len(frames)])
        video.close()
        costs[f"video_{codec}"] = (time.process_time() - started) / count * 1e3
    for compression in (*IMAGE_COMPRESSIONS, "gzip_1"):
        name, _, level = compression.partition("_")
        options = Hdf5WriterConfig(out / "x.hdf5", image_compression=name, gzip_level=int(level or 4)).image_options
        with h5py.File(out / f"{compression}.hdf5", "w") as file:
            dataset = file.create_dataset("frames", shape=(count, HEIGHT, WIDTH, 3), dtype=np.uint8,
                                          chunks=(1, HEIGHT, WIDTH, 3), **options)
            started = time.process_time()
            for i in range(count):
                dataset[i] = frames[i % len(frames)]
            costs[f"hdf5_{compression}"] = (time.process_time() - started) / count * 1e3
        costs[f"hdf5_{compression}_ratio"] = (out / f"{compression}.hdf5").stat().st_size / (count * frames[0].nbytes)
    return costs


class Rig:
    """This process's side: the follower's and the cameras' topics, a probe for diagnostics and services."""

    def __init__(self, context, frames: dict[str, list[np.ndarray]]):
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.node import Node

        from so101_calibration.interface_contract import (
            CAMERA_IMAGE,
            DIAGNOSTICS,
            FOLLOWER_JOINT_COMMANDS,
            FOLLOWER_JOINT_STATES,
            RECORDER_START,
            RECORDER_STOP,
        )
        from so101_hardware.ros.endpoints import client, publisher, subscription

        self.node = Node("record_rig", context=context)
        self.states = publisher(self.node, FOLLOWER_JOINT_STATES)
        self.commands = publisher(self.node, FOLLOWER_JOINT_COMMANDS)
        self.images = {c: publisher(self.node, CAMERA_IMAGE, name=CAMERA_IMAGE.format(name=c)) for c in CAMERAS}
        self.frames = frames
        self.published = {camera: 0 for camera in CAMERAS}
        self.recorder_report: dict[str, str] = {}
        subscription(self.node, DIAGNOSTICS, self._on_diagnostics)
        self.clients = {service: client(self.node, service) for service in (RECORDER_START, RECORDER_STOP)}
        self.reports = 0
        self.max_backlog = 0
        self.executor = SingleThreadedExecutor(context=context)
        self.executor.add_node(self.node)
        self._stop = threading.Event()
        self._publishers = [threading.Thread(target=self._publish_joints, daemon=True),
                            threading.Thread(target=self._publish_frames, daemon=True)]
        self._spinner = threading.Thread(target=self.executor.spin, daemon=True)
        for thread in (self._spinner, *self._publishers):
            thread.start()

    def _on_diagnostics(self, msg) -> None:
        for status in msg.status:
            if status.name == "recorder":
                self.recorder_report = {kv.key: kv.value for kv in status.values}
                self.max_backlog = max(self.max_backlog, int(self.recorder_report["backlog"]))
                self.reports += 1

    def stop_publishing(self) -> None:
        self._stop.set()
        for thread in self._publishers:
            thread.join(timeout=5)

    def next_report(self) -> dict[str, str]:
        """The recorder's next /diagnostics values (1 Hz)."""
        seen = self.reports
        deadline = time.monotonic() + 5
        while self.reports == seen and time.monotonic() < deadline:
            time.sleep(0.05)
        return dict(self.recorder_report)

    def _ticks(self, rate_hz: float, stop: threading.Event):
        """Tick at rate_hz once the recorder has subscribed to every topic (frames sent before would be lost)."""
        publishers = (self.states, self.commands, *self.images.values())
        while not stop.is_set() and not all(p.get_subscription_count() for p in publishers):
            time.sleep(0.05)
        start, start_wall, k = time.monotonic(), time.time(), 0
        while not stop.is_set():
            yield k, start_wall + k / rate_hz  # the scheduled time: a camera's capture clock, not our jitter
            k += 1
            delay = start + k / rate_hz - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def _publish_joints(self) -> None:
        from so101_calibration import JOINT_NAMES
        from so101_hardware.ros.joint_states import joint_state

        for k, stamp in self._ticks(JOINT_RATE_HZ, self._stop):
            pose = 0.3 * np.sin(2 * np.pi * 0.2 * k / JOINT_RATE_HZ + np.arange(6))
            self.states.publish(joint_state(JOINT_NAMES, pose, stamp))
            self.commands.publish(joint_state(JOINT_NAMES, pose, stamp))

    def _publish_frames(self) -> None:
        from so101_hardware.ros.images import image_message

        for k, stamp in self._ticks(FPS, self._stop):
            for camera, publisher in self.images.items():
                publisher.publish(image_message(self.frames[camera][k % VARIANTS], stamp, f"{camera}_camera"))
                self.published[camera] += 1

    def call(self, service, request):
        service_client = self.clients[service]
        if not service_client.wait_for_service(timeout_sec=START_TIMEOUT_S):
            raise RuntimeError(f"no {service.name} service")
        future = service_client.call_async(request)
        deadline = time.monotonic() + 600
        while not future.done():  # the executor thread completes it
            if time.monotonic() > deadline:
                raise RuntimeError(f"{service.name} did not answer")
            time.sleep(0.01)
        return future.result()

    def close(self) -> None:
        self.stop_publishing()
        self.executor.shutdown()
        self._spinner.join(timeout=5)
        self.node.destroy_node()


def live_recording(frames: dict[str, list[np.ndarray]], seconds: float, domain_id: int, out: Path) -> dict[str, object]:
    """The recorder node in its own process (run by the graph runner, as `ros2 launch` runs it), fed by this one."""
    from std_srvs.srv import SetBool, Trigger

    from so101_bringup.catalog import SIM_BRIDGE
    from so101_bringup.graph_spec import Graph, NodeSpec
    from so101_bringup.runner import GraphRunner
    from so101_bringup.share import config_path
    from so101_calibration.interface_contract import RECORDER_START, RECORDER_STOP

    hdf5_path, lerobot_root = out / "demos.hdf5", out / "lerobot"
    parameters = {"hdf5_path": str(hdf5_path), "lerobot_root": str(lerobot_root), "instruction": "benchmark",
                  "arm_id": "emulated_follower", "calibration": str(config_path("calibration")), "keyboard": False}
    graph = Graph((NodeSpec(SIM_BRIDGE, "recorder_node", "recorder", parameters=parameters),))
    runner = GraphRunner(graph, domain_id=domain_id, processes=["recorder"], process_environment=LOCAL_DISCOVERY)
    with runner as running:
        rig = Rig(running.context, frames)
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:  # the recorder refuses to start until every input arrives
                started = rig.call(RECORDER_START, Trigger.Request())
                if started.success:
                    break
                if time.monotonic() > deadline or running.exited_processes():
                    raise RuntimeError(f"the recorder did not start: {started.message}")
                time.sleep(0.2)
            rig.max_backlog = 0
            recorder_pid = running.process_id("recorder")
            cpu_started = cpu_seconds(recorder_pid)
            time.sleep(seconds)  # the episode
            recording_cpu_s = cpu_seconds(recorder_pid) - cpu_started
            rig.stop_publishing()  # while stop runs, the recorder takes no frames: they would count as lost
            stop_started = time.perf_counter()
            stopped = rig.call(RECORDER_STOP, SetBool.Request(data=True))
            stop_s = time.perf_counter() - stop_started
            report = rig.next_report()  # after the stop and the last frame: the totals
            peak_mb = peak_memory_mb(running.process_id("recorder"))
        finally:
            rig.close()
    # leaving the runner stopped the recorder with SIGINT, which closes its writers (the LeRobot metadata)
    if not stopped.success:
        raise RuntimeError(f"stop failed: {stopped.message}")
    steps = int(report["steps"])
    return {
        "stop_message": stopped.message,
        "steps": steps,
        "expected_steps": int(seconds * FPS),
        "dropped": int(report["dropped_steps"]),
        "late": int(report["late_samples"]),
        "overflow": int(report["overflow_samples"]),
        "dropped_for": {k.removeprefix(DROPPED_FOR): int(v) for k, v in report.items() if k.startswith(DROPPED_FOR)},
        "max_backlog": rig.max_backlog,
        "published": dict(rig.published),
        "received": {camera: int(report.get(f"received_{camera}", 0)) for camera in CAMERAS},
        "raw_mb_s": steps * len(CAMERAS) * WIDTH * HEIGHT * 3 / MB / seconds,
        "hdf5_mb": disk_bytes(hdf5_path) / MB,
        "lerobot_mb": disk_bytes(lerobot_root) / MB,
        "stop_s": stop_s,
        "peak_mb": peak_mb,
        "cpu_ms_per_step": recording_cpu_s / max(1, steps) * 1e3,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the recorded episode")
    parser.add_argument("--capacity-steps", type=int, default=150, help="steps for the writers' capacity (baseline)")
    parser.add_argument("--no-components", dest="components", action="store_false",
                        help="skip the CPU time per frame of each encoder and HDF5 filter")
    parser.add_argument("--domain-id", type=int, default=101 + os.getpid() % 100,
                        help="ROS domain (default: from the process id, so concurrent runs rarely share one)")
    args = parser.parse_args()
    os.environ.update(profile_environment(FASTDDS_PROFILE))  # before any participant exists

    frames = camera_frames()
    with tempfile.TemporaryDirectory(prefix="so101-record-bench-") as tmp:
        capacity, capacity_cpu_ms = writer_capacity(frames, args.capacity_steps, Path(tmp))
        live = live_recording(frames, args.seconds, args.domain_id, Path(tmp))
        components = component_costs(frames["front"], Path(tmp)) if args.components else {}

    seconds = args.seconds
    from so101_sim_bridge.recorder.hdf5_writer import Hdf5WriterConfig
    from so101_sim_bridge.recorder.video import DEFAULT_PRESETS, VideoConfig

    codec = VideoConfig.codec
    print(f"recording 2 cameras {WIDTH}x{HEIGHT} + joint states at {FPS} Hz for {seconds:.0f} s through ROS, "
          f"HDF5 (frames {Hdf5WriterConfig.image_compression}) + LeRobot ({codec} {DEFAULT_PRESETS[codec]}), "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    grid = live["steps"] + live["dropped"]
    print(f"{'steps recorded / on the grid':34s} {live['steps']} / {grid} "
          f"({live['expected_steps']} in {seconds:.0f} s)")
    dropped_for = ", ".join(f"{stream} {n}" for stream, n in live["dropped_for"].items()) or "-"
    print(f"{'steps dropped (goal 0)':34s} {live['dropped']} (missing: {dropped_for})")
    print(f"{'late samples':34s} {live['late']}")
    print(f"{'frames published → received':34s} " + ", ".join(
        f"{c} {live['published'][c]} → {live['received'][c]}" for c in CAMERAS))
    print(f"{'writer backlog max, refused':34s} {live['max_backlog']} items, {live['overflow']} samples")
    print(f"{'raw frame data recorded':34s} {live['raw_mb_s']:.1f} MB/s")
    print(f"{'on disk: HDF5, LeRobot':34s} {live['hdf5_mb']:.0f} MB ({live['hdf5_mb'] / seconds:.1f} MB/s), "
          f"{live['lerobot_mb']:.1f} MB ({live['lerobot_mb'] / seconds:.2f} MB/s)")
    print(f"{'stop (HDF5 copy, video remux)':34s} {live['stop_s']:.2f} s")
    print(f"{'recorder peak memory (VmHWM)':34s} {live['peak_mb']:.0f} MB")
    print(f"{'recorder CPU while recording':34s} {live['cpu_ms_per_step']:.1f} ms per step "
          f"({live['cpu_ms_per_step'] * FPS / 10:.0f} % of a core)")
    print(f"{'baseline: writers alone, no ROS':34s} {capacity:.1f} steps/s = {capacity / FPS:.2f}x real time "
          f"(goal ≥ 1.3), {capacity_cpu_ms:.1f} ms CPU per step")
    if components:
        print("where the time goes, CPU ms per 640x480 frame: " + ", ".join(
            f"{name} {value:.2f}" for name, value in components.items() if not name.endswith("_ratio")))
        print("HDF5 size / raw: " + ", ".join(
            f"{name.removesuffix('_ratio')} {value:.2f}" for name, value in components.items() if name.endswith("_ratio")))
    figures = {
        "benchmark": "record_throughput",
        "seconds": seconds,
        "fps": FPS,
        "steps": live["steps"],
        "expected_steps": live["expected_steps"],
        "dropped_steps": live["dropped"],
        "late_samples": live["late"],
        "overflow_samples": live["overflow"],
        "max_backlog_items": live["max_backlog"],
        **{f"frames_published_{c}": live["published"][c] for c in CAMERAS},
        **{f"frames_received_{c}": live["received"][c] for c in CAMERAS},
        "raw_mb_per_s": round(live["raw_mb_s"], 2),
        "hdf5_mb": round(live["hdf5_mb"], 1),
        "lerobot_mb": round(live["lerobot_mb"], 2),
        "stop_s": round(live["stop_s"], 3),
        "peak_memory_mb": round(live["peak_mb"], 1),
        "writer_capacity_steps_per_s": round(capacity, 2),
        "writer_headroom_x": round(capacity / FPS, 3),
        "writer_cpu_ms_per_step": round(capacity_cpu_ms, 2),
        "recorder_cpu_ms_per_step": round(live["cpu_ms_per_step"], 2),
        **{f"cpu_ms_per_frame_{name}": round(value, 3) for name, value in components.items()
           if not name.endswith("_ratio")},
        **{f"size_{name}": round(value, 3) for name, value in components.items() if name.endswith("_ratio")},
        "load_average": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
