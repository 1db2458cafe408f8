"""MuJoCo twin node: the embedded simulator, on the same topics and QoS as Isaac Sim's action graph.

Subscribes `command_topic` (default /isaac_joint_command; sensor_msgs/JointState position
targets by sim joint name, reliable keep-last 10 like Isaac's subscriber) and publishes
`state_topic` (default /isaac_joint_states, same QoS), so the twin bridge cannot tell the two
simulators apart. Like Isaac on the tick that applies a command, the twin publishes its state as
soon as a command is applied (the echo the bridge measures lag with), and otherwise from the
physics timer at physics_rate_hz, which advances the simulation by the wall time elapsed (whole
2 ms physics steps; MujocoTwin.step). States are stamped with the wall clock, not simulated
time, so they compare with the follower's stamps on this machine.

Cameras render on a thread of their own at camera_rate_hz, never on the executor's thread: a
software-rendered front camera takes 100+ ms (README), which would stall physics and the echo.
That thread also runs at a lower CPU priority (and so do the rasteriser threads OSMesa starts
from it, which inherit it): on a small machine a frame may come late, a physics tick may not.
Images go out as rgb8 on camera_topic ({name} → wrist, front), with sensor-data QoS.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass, field

from rclpy.node import Node
from sensor_msgs.msg import Image, JointState

from so101_hardware.cameras import Frame
from so101_hardware.metrics import LatencyStats, RateMeter
from so101_hardware.nodes.camera_node import image_message
from so101_hardware.nodes.diagnostics import ERROR, OK, WARN, DiagnosticsReporter, Health
from so101_hardware.nodes.messages import joint_state
from so101_hardware.nodes.params import declare_config
from so101_hardware.nodes.qos import SENSOR_QOS, STATE_QOS
from so101_hardware.nodes.runtime import abandon, run_node
from so101_sim_bridge.isaac.graph import CAMERA_TOPIC, JOINT_COMMAND_TOPIC, JOINT_STATE_TOPIC
from so101_sim_bridge.nodes import NodeStartError
from so101_sim_bridge.twin import (
    TWIN_CAMERAS,
    MujocoTwin,
    TwinAssetError,
    TwinCameraConfig,
    TwinConfig,
    TwinRenderError,
)

MAX_STEP_S = 0.1
"""Most simulated time one physics tick catches up; after a longer stall the twin skips ahead
rather than running a burst of steps that would stall the executor again (counted as stalls)."""
FIRST_FRAME_TIMEOUT_S = 30.0
"""How long start-up waits for the first frame of every camera (a bad GL backend fails at start)."""
RENDER_NICENESS = 10
"""Added to the render thread's nice value (Linux: per thread; raising it needs no privilege)."""
RENDER_STOP_TIMEOUT_S = 5.0
"""Longest wait for the frame being rendered when the node stops (a front frame takes ~0.1 s here)."""


@dataclass(frozen=True)
class MujocoTwinNodeConfig:
    """The MuJoCo twin node's parameters; topics default to Isaac Sim's (isaac/graph.py): either serves the bridge."""

    command_topic: str = field(default=JOINT_COMMAND_TOPIC, metadata={"help": "position targets by sim joint name"})
    state_topic: str = field(default=JOINT_STATE_TOPIC, metadata={"help": "the twin's joint states"})
    physics_rate_hz: float = field(
        default=100.0, metadata={"help": "physics timer: steps to wall time, publishes state"}
    )
    cameras: tuple[str, ...] = field(default=TWIN_CAMERAS, metadata={"help": f"rendered cameras, of {TWIN_CAMERAS}"})
    camera_width: int = 320
    camera_height: int = 240
    camera_rate_hz: float = field(
        default=10.0, metadata={"help": "frames per second per camera, at most (software rendering is slow); 0: none"}
    )
    camera_topic: str = field(default=CAMERA_TOPIC, metadata={"help": "image topic; {name} is the camera name"})
    shadows: bool = field(default=False, metadata={"help": "shadows roughly halve the software frame rate"})

    def __post_init__(self) -> None:
        if not 1 <= self.physics_rate_hz <= 1000:
            raise ValueError(f"physics_rate_hz must be within 1..1000, got {self.physics_rate_hz}")
        if not 0 <= self.camera_rate_hz <= 120:
            raise ValueError(f"camera_rate_hz must be within 0..120 (0: no cameras), got {self.camera_rate_hz}")
        if "{name}" not in self.camera_topic:
            raise ValueError(f"camera_topic must contain {{name}}, got {self.camera_topic!r}")

    @property
    def rendered_cameras(self) -> tuple[str, ...]:
        return self.cameras if self.camera_rate_hz > 0 else ()

    def twin_config(self) -> TwinConfig:
        """The twin to build (TwinCameraConfig checks names and sizes)."""
        cameras = tuple(TwinCameraConfig(name, self.camera_width, self.camera_height) for name in self.rendered_cameras)
        return TwinConfig(cameras=cameras, shadows=self.shadows)


class MujocoTwinNode(Node):
    def __init__(self, **node_kwargs):
        super().__init__(node_kwargs.pop("node_name", "mujoco_twin"), **node_kwargs)
        self._stop = threading.Event()
        self._render_thread: threading.Thread | None = None
        try:
            self.config = declare_config(self, MujocoTwinNodeConfig)
            self.twin = MujocoTwin(self.config.twin_config())
            self.images = {
                name: self.create_publisher(Image, self.config.camera_topic.format(name=name), SENSOR_QOS)
                for name in self.config.rendered_cameras
            }
            self.camera_rates = {name: RateMeter() for name in self.config.rendered_cameras}
            self.render_time = LatencyStats()
            self._render_error: BaseException | None = None
            self._start_rendering()
        except (TwinAssetError, TwinRenderError) as exc:
            error = NodeStartError(f"node {self.get_name()}: {exc}")
            self._abandon()
            raise error from exc
        except BaseException:
            self._abandon()
            raise
        self.commands_applied = 0
        self.rejected = 0
        self.stalls = 0
        self.physics_rate = RateMeter()
        self._started_wall = time.monotonic()
        self._started_sim = self.twin.time_s
        self._last_tick = time.monotonic()
        self.states = self.create_publisher(JointState, self.config.state_topic, STATE_QOS)
        self.create_subscription(JointState, self.config.command_topic, self.on_command, STATE_QOS)
        self.create_timer(1.0 / self.config.physics_rate_hz, self.on_physics_tick)
        self.diagnostics = DiagnosticsReporter(self, "mujoco twin", self.health)
        self.get_logger().info(
            f"MuJoCo twin: {self.config.command_topic} → {self.config.state_topic}, cameras "
            f"{list(self.config.rendered_cameras)} at {self.config.camera_width}x{self.config.camera_height}"
        )

    # --- physics (executor thread) -------------------------------------------------------------

    def on_command(self, msg: JointState) -> None:
        if not msg.position:
            return  # velocity- or effort-only commands: the twin's actuators take positions
        try:
            if len(msg.position) != len(msg.name):
                raise ValueError(f"{len(msg.name)} names but {len(msg.position)} positions")
            self.twin.set_targets(list(msg.name), list(msg.position))
        except ValueError as exc:
            self.rejected += 1
            self.get_logger().warning(f"command rejected: {exc}", throttle_duration_sec=1.0)
            return
        self.commands_applied += 1
        self.publish_state()  # the echo: the state on the tick that applies the command

    def on_physics_tick(self) -> None:
        now = time.monotonic()
        elapsed, self._last_tick = now - self._last_tick, now
        if elapsed > MAX_STEP_S:
            self.stalls += 1
            elapsed = MAX_STEP_S
        self.twin.step(elapsed)
        self.physics_rate.tick(now)
        self.publish_state()

    def publish_state(self) -> None:
        state = self.twin.state()
        self.states.publish(joint_state(state.names, state.position, time.time(), state.velocity, state.effort))

    # --- cameras (render thread) ---------------------------------------------------------------

    def _start_rendering(self) -> None:
        """Start the render thread and wait for its first frames, so a broken GL backend fails the start."""
        if not self.config.rendered_cameras:
            return
        first_frames = threading.Event()
        self._render_thread = threading.Thread(
            target=self._render_loop, args=(first_frames,), name="twin-render", daemon=True
        )
        self._render_thread.start()
        if not first_frames.wait(FIRST_FRAME_TIMEOUT_S):
            raise TwinRenderError(f"no frame rendered within {FIRST_FRAME_TIMEOUT_S:.0f} s")
        if self._render_error is not None:
            raise self._render_error

    def _render_loop(self, first_frames: threading.Event) -> None:
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, os.getpriority(os.PRIO_PROCESS, thread) + RENDER_NICENESS)
        period = 1.0 / self.config.camera_rate_hz
        due = time.monotonic()
        index = 0
        try:
            while True:
                for name in self.config.rendered_cameras:
                    self._render(name, index)
                first_frames.set()
                index += 1
                due = max(due + period, time.monotonic())  # a slow frame delays the next, never bursts
                if self._stop.wait(due - time.monotonic()):
                    return
        except BaseException as exc:  # noqa: BLE001 - reported by start-up or by /diagnostics
            self._render_error = exc
            first_frames.set()
        finally:
            self.twin.close()  # the GL contexts are this thread's: released here, not by another thread

    def _render(self, name: str, index: int) -> None:
        started = time.monotonic()
        wall = time.time()
        image = self.twin.render(name)
        self.render_time.add(time.monotonic() - started)
        self.images[name].publish(image_message(Frame(image, index, started, wall), f"sim_{name}_camera"))
        self.camera_rates[name].tick(started)

    # --- health and shutdown -------------------------------------------------------------------

    def health(self) -> Health:
        wall = time.monotonic() - self._started_wall
        values: dict[str, object] = {
            "physics_rate_hz": self.physics_rate.rate_hz,
            "real_time_factor": (self.twin.time_s - self._started_sim) / wall if wall > 0 else 0.0,
            "commands_applied": self.commands_applied,
            "rejected_commands": self.rejected,
            "physics_stalls": self.stalls,
            **{f"camera_{name}_fps": rate.rate_hz for name, rate in self.camera_rates.items()},
            **self.render_time.summary("render"),
        }
        if self._render_error is not None:
            return Health(ERROR, f"rendering stopped: {self._render_error}", values)
        if self.rejected:
            return Health(WARN, "commands rejected (sim joint names or values; see the log)", values)
        return Health(OK, "ok", values)

    def _abandon(self) -> None:
        abandon(self, self._stop_rendering)

    def _stop_rendering(self) -> None:
        """Stop the render thread after its current frame (it releases the GL contexts itself)."""
        self._stop.set()
        if self._render_thread is not None:
            self._render_thread.join(timeout=RENDER_STOP_TIMEOUT_S)

    def destroy_node(self) -> None:
        self._stop_rendering()
        super().destroy_node()


def main(args: list[str] | None = None) -> int:
    return run_node(MujocoTwinNode, args)


if __name__ == "__main__":
    sys.exit(main())
