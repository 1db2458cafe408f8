"""MuJoCo twin node: the embedded simulator, on the same topics and QoS as Isaac Sim's action graph.

Subscribes `command_topic` (default /isaac_joint_command; sensor_msgs/JointState position
targets by sim joint name, reliable keep-last 10 like Isaac's subscriber) and publishes
`state_topic` (default /isaac_joint_states, same QoS), so the twin bridge cannot tell the two
simulators apart. Like Isaac on the tick that applies a command, the twin publishes its state as
soon as a command is applied (the echo the bridge measures lag with), and otherwise from the
physics timer at physics_rate_hz; both advance the simulation to the wall time (whole 2 ms
physics steps; MujocoTwin.step), so an echo is never a tick old. States are stamped with the wall
time their physics state stands for (not simulated time), so they compare with the follower's
stamps on this machine. A command's stamp (the follower's bus read) is passed to the twin on its
own clock, so its servo model carries the target forward to the present (twin.py).

The physics timer also publishes each object of the scene on /sim/objects/<name>/pose
(geometry_msgs/PoseStamped, robot root frame `base`), which the recorder records, and the
service /sim/reset_objects (std_srvs/Trigger) puts them back where the scene starts them.

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

from sensor_msgs.msg import JointState

from so101_calibration.interface_contract import (
    SIM_CAMERA_IMAGE,
    SIM_JOINT_COMMAND,
    SIM_JOINT_STATES,
    SIM_OBJECT_POSE,
    SIM_RESET_OBJECTS,
)
from so101_calibration.model_files import ModelFileError
from so101_hardware.metrics import LatencyStats, RateMeter
from so101_hardware.ros.diagnostics import ERROR, OK, WARN, DiagnosticsReporter, Health
from so101_hardware.ros.endpoints import publisher, service, subscription
from so101_hardware.ros.images import image_message
from so101_hardware.ros.joint_states import joint_state, named_positions
from so101_hardware.ros.lifecycle import So101Node, node_main
from so101_hardware.ros.poses import pose_message
from so101_hardware.ros.stamps import seconds_from_stamp
from so101_sim_bridge.twin import MujocoTwin, MujocoTwinNodeConfig, TwinRenderError

MAX_STEP_S = 0.1
"""Most simulated time one physics tick catches up; after a longer stall the twin skips ahead
rather than running a burst of steps that would stall the executor again (counted as stalls)."""
FIRST_FRAME_TIMEOUT_S = 30.0
"""How long start-up waits for the first frame of every camera (a bad GL backend fails at start)."""
RENDER_NICENESS = 10
"""Added to the render thread's nice value (Linux: per thread; raising it needs no privilege)."""
ROBOT_ROOT_FRAME = "base"
"""frame_id of the object poses: the arm's root link, which is the twin's world origin (scene.py)."""
RENDER_STOP_TIMEOUT_S = 5.0
"""Longest wait for the frame being rendered when the node stops (a front frame takes ~0.1 s here)."""


class MujocoTwinNode(So101Node):
    DEFAULT_NAME = "mujoco_twin"
    CONFIG = MujocoTwinNodeConfig
    START_ERRORS = (ModelFileError, TwinRenderError)

    def setup(self) -> None:
        self._stop = threading.Event()
        self._render_thread: threading.Thread | None = None
        self.release_on_failure(self._stop_rendering)
        self.twin = MujocoTwin(self.config.twin_config())
        self.images = {
            name: publisher(self, SIM_CAMERA_IMAGE, name=self.config.camera_topic.format(name=name))
            for name in self.config.rendered_cameras
        }
        self.camera_rates = {name: RateMeter() for name in self.config.rendered_cameras}
        self.render_time = LatencyStats()
        self._render_error: BaseException | None = None
        self._start_rendering()
        self.commands_applied = 0
        self.rejected = 0
        self.stalls = 0
        self.physics_rate = RateMeter()
        self._started_wall = time.monotonic()
        self._started_sim = self.twin.time_s
        self._last_tick = time.monotonic()
        self._clock_offset = time.time() - self.twin.time_s  # wall − twin clock (grows by skipped stalls)
        self.states = publisher(self, SIM_JOINT_STATES, name=self.config.state_topic)
        self.object_poses = {
            name: publisher(self, SIM_OBJECT_POSE, name=SIM_OBJECT_POSE.format(name=name))
            for name in self.twin.object_names
        }
        subscription(self, SIM_JOINT_COMMAND, self.on_command, name=self.config.command_topic)
        service(self, SIM_RESET_OBJECTS, self.on_reset_objects)
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
        self.advance_physics()
        stamp = seconds_from_stamp(msg.header.stamp)
        try:
            names, positions = named_positions(msg)
            self.twin.set_targets(names, list(positions), stamp - self._clock_offset if stamp > 0 else None)
        except ValueError as exc:  # MalformedJointState is one; set_targets raises it for unknown joints
            self.rejected += 1
            self.get_logger().warning(f"command rejected: {exc}", throttle_duration_sec=1.0)
            return
        self.commands_applied += 1
        self.publish_state()  # the echo: the state on the tick that applies the command

    def on_reset_objects(self, _request, response):
        self.twin.reset_objects()
        response.success, response.message = True, f"objects back in place: {', '.join(self.twin.object_names)}"
        self.get_logger().info(response.message)
        return response

    def on_physics_tick(self) -> None:
        self.advance_physics()
        self.physics_rate.tick(time.monotonic())
        self.publish_state()
        stamp = self.state_stamp()
        for name, pose in self.twin.object_poses().items():
            self.object_poses[name].publish(pose_message(pose, stamp, ROBOT_ROOT_FRAME))

    def advance_physics(self) -> None:
        """Step the simulation up to the wall clock (at most MAX_STEP_S at once)."""
        now = time.monotonic()
        elapsed, self._last_tick = now - self._last_tick, now
        if elapsed > MAX_STEP_S:
            self.stalls += 1
            self._clock_offset += elapsed - MAX_STEP_S
            elapsed = MAX_STEP_S
        self.twin.step(elapsed)

    def state_stamp(self) -> float:
        """The wall time the twin's physics state stands for."""
        return self.twin.time_s + self._clock_offset

    def publish_state(self) -> None:
        state = self.twin.state()
        self.states.publish(
            joint_state(state.names, state.position, self.state_stamp(), state.velocity, state.effort)
        )

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
        try:
            while True:
                for name in self.config.rendered_cameras:
                    self._render(name)
                first_frames.set()
                due = max(due + period, time.monotonic())  # a slow frame delays the next, never bursts
                if self._stop.wait(due - time.monotonic()):
                    return
        except BaseException as exc:  # noqa: BLE001 - reported by start-up or by /diagnostics
            self._render_error = exc
            first_frames.set()
        finally:
            self.twin.close()  # the GL contexts are this thread's: released here, not by another thread

    def _render(self, name: str) -> None:
        started = time.monotonic()
        wall = time.time()
        image = self.twin.render(name)
        self.render_time.add(time.monotonic() - started)
        self.images[name].publish(image_message(image, wall, f"sim_{name}_camera"))
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

    def _stop_rendering(self) -> None:
        """Stop the render thread after its current frame (it releases the GL contexts itself)."""
        self._stop.set()
        if self._render_thread is not None:
            self._render_thread.join(timeout=RENDER_STOP_TIMEOUT_S)

    def destroy_node(self) -> None:
        self._stop_rendering()
        super().destroy_node()


main = node_main(MujocoTwinNode)


if __name__ == "__main__":
    sys.exit(main())
