"""Recorder node: time-aligned episodes into Isaac Lab HDF5 and a LeRobot v3 dataset.

Inputs (RecorderNodeConfig): joint states on state_topic (the follower's, or the simulator's in
sim units), commands on action_topic, one image topic per camera (sensor-data QoS, which matches
a camera node and Isaac's reliable camera helper alike), and the task on policy/instruction
(std_msgs/String, transient local: a late recorder still gets it; the instruction parameter
until then); with record_intervention, who drives on command_mux/source (each step's
`intervention` flag: True while the operator corrects the policy). Callbacks only hand samples to a RecordingSession, whose own thread aligns and
writes them. That thread still holds Python's GIL while PyAV encodes and h5py compresses, which
can delay the callbacks by 100+ ms here; the subscriptions therefore keep a second of samples in
DDS (RECORDED_SAMPLES_QOS, RECORDED_IMAGES_QOS), and the session aligns on stamps, so a late callback loses nothing.

With a task (RecorderNodeConfig.task), it also records each of the task's objects from
/sim/objects/<name>/pose (geometry_msgs/PoseStamped, the twin's), and the HDF5 file gets Isaac
Lab Mimic's datagen_info and subtask signals.

Control:
  recorder/start         std_srvs/Trigger   start an episode (refused, naming the topics, while an input is missing)
  recorder/stop          std_srvs/SetBool   end it: data=true success, false failure (kept in HDF5, success=false)
  recorder/discard       std_srvs/Trigger   forget the episode being recorded
  recorder/mark_subtask  std_srvs/Trigger   the current subtask ends now (manual annotation, LeIsaac's S key)
and, when stdin is a terminal, keys B (start), N (stop: success), R (stop: failure), S (subtask
ends) with a live status line (episode, duration, frames, drops). The node's shutdown closes the writers, which is
what makes the LeRobot dataset loadable; the HDF5 file is safe at every moment (hdf5_writer.py).
"""
from __future__ import annotations

import concurrent.futures
import sys
import time
from collections import Counter
from concurrent.futures import Future
from functools import partial

import numpy as np
from geometry_msgs.msg import PoseStamped
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import String
from std_srvs.srv import SetBool, Trigger

from so101_calibration import JOINT_NAMES
from so101_calibration.interface_contract import (
    CAMERA_IMAGE,
    COMMAND_SOURCE,
    FOLLOWER_JOINT_COMMANDS,
    FOLLOWER_JOINT_STATES,
    OPERATOR_SOURCE,
    POLICY_INSTRUCTION,
    RECORDED_IMAGES_QOS,
    RECORDED_SAMPLES_QOS,
    RECORDER_DISCARD,
    RECORDER_MARK_SUBTASK,
    RECORDER_START,
    RECORDER_STOP,
    SIM_OBJECT_POSE,
)
from so101_hardware.cameras import Frame
from so101_hardware.ros.diagnostics import ERROR, OK, WARN, DiagnosticsReporter, Health
from so101_hardware.ros.endpoints import service, subscription
from so101_hardware.ros.images import rgb_from_image
from so101_hardware.ros.joint_states import MalformedJointState, named_positions, positions_by_name
from so101_hardware.ros.lifecycle import So101Node, node_main
from so101_hardware.ros.poses import pose_from_message
from so101_hardware.ros.stamps import seconds_from_stamp
from so101_hardware.terminal import TerminalControl, stdin_fd
from so101_sim_bridge.recorder.alignment import ACTION, JOINTS, OBJECT_PREFIX
from so101_sim_bridge.recorder.errors import RecorderError
from so101_sim_bridge.recorder.inputs import InputMonitor, describe_missing
from so101_sim_bridge.recorder.session import RecordingSession, describe_stop
from so101_sim_bridge.recorder.settings import RecorderNodeConfig, open_recorder

COMMAND_TIMEOUT_S = 120.0
"""Longest wait for start/stop: stopping copies the episode into the HDF5 file and remuxes video."""
INPUT_TIMEOUT_S = 1.0
"""An input silent this long counts as missing (start is refused, /diagnostics warns)."""
STATUS_PERIOD_S = 0.2
WAITING_CHECK_PERIOD_S = 1.0


class RecorderNode(So101Node):
    DEFAULT_NAME = "recorder"
    CONFIG = RecorderNodeConfig
    START_ERRORS = (RecorderError,)

    def setup(self) -> None:
        recorder, self.mapping = open_recorder(self.config)
        self.release_on_failure(recorder.close)
        self._create_interfaces()
        self.session = RecordingSession(recorder, on_error=self.on_recording_error)  # callbacks use it once spun
        keys = {"b": self.key_start, "n": partial(self.key_stop, True), "r": partial(self.key_stop, False),
                "s": self.key_mark}
        self.terminal = TerminalControl(keys, stdin_fd() if self.config.keyboard else None, sys.stdout)
        outputs = ", ".join(p for p in (self.config.hdf5_path, self.config.lerobot_root) if p)
        self.get_logger().info(f"recording {list(self.config.cameras)} at {self.config.fps} fps into {outputs}")
        if self.terminal.start():
            self.create_timer(STATUS_PERIOD_S, self.show_status)
            self.get_logger().info("keys: B start, N stop (success), R stop (failure), S subtask ends")
        else:
            self.get_logger().info(
                "keyboard off (stdin is not a terminal, or keyboard:=false): use the recorder/* services"
            )

    def _create_interfaces(self) -> None:
        """Subscriptions, services, timers, diagnostics."""
        task = self.config.task_spec
        self.instruction = self.config.instruction or (task.instruction if task is not None else "")
        self.rejected: Counter[str] = Counter()
        self._waiting_logged: set[str] = set()
        subscriptions = {
            JOINTS: subscription(
                self, FOLLOWER_JOINT_STATES, self.on_state, name=self.config.state_topic, qos=RECORDED_SAMPLES_QOS
            ),
            ACTION: subscription(
                self, FOLLOWER_JOINT_COMMANDS, self.on_action, name=self.config.action_topic, qos=RECORDED_SAMPLES_QOS
            ),
            **{
                camera: subscription(
                    self, CAMERA_IMAGE, partial(self.on_image, camera), name=topic, qos=RECORDED_IMAGES_QOS
                )
                for camera, topic in self.config.camera_topic_map.items()
            },
            **{
                OBJECT_PREFIX + name: subscription(
                    self, SIM_OBJECT_POSE, partial(self.on_object_pose, name), name=topic, qos=RECORDED_SAMPLES_QOS
                )
                for name, topic in self.config.object_topic_map.items()
            },
        }
        self.inputs = InputMonitor({stream: s.topic_name for stream, s in subscriptions.items()}, INPUT_TIMEOUT_S)
        subscription(self, POLICY_INSTRUCTION, self.on_instruction)
        if self.config.record_intervention:
            subscription(self, COMMAND_SOURCE, self.on_command_source)
        service(self, RECORDER_START, self.on_start)
        service(self, RECORDER_STOP, self.on_stop)
        service(self, RECORDER_DISCARD, self.on_discard)
        service(self, RECORDER_MARK_SUBTASK, self.on_mark)
        self.create_timer(WAITING_CHECK_PERIOD_S, self.log_waiting)
        self.diagnostics = DiagnosticsReporter(self, "recorder", self.health)

    # --- inputs --------------------------------------------------------------------------------

    def _stamp(self, msg) -> float:
        return time.time() if self.config.stamp_on_arrival else seconds_from_stamp(msg.header.stamp)

    def _reject(self, what: str, exc: Exception) -> None:
        self.rejected[what] += 1
        self.get_logger().warning(f"{what} ignored: {exc}", throttle_duration_sec=1.0)

    def on_state(self, msg: JointState) -> None:
        try:
            if self.config.state_units == "sim":
                names, sim_positions = named_positions(msg)
                positions = self.mapping.from_sim(sim_positions, names)
                velocities = self._sim_velocities(msg, names)
            else:
                positions = positions_by_name(msg, JOINT_NAMES)
                velocities = self._sim_velocities(msg, list(msg.name), to_ros=False)
        except ValueError as exc:
            self._reject("joint_state", exc)
            return
        self.inputs.seen(JOINTS, time.time())
        self.session.add_joint_state(self._stamp(msg), positions, velocities)

    def _sim_velocities(self, msg: JointState, names: list[str], to_ros: bool = True) -> np.ndarray | None:
        """The state's velocities in JOINT_NAMES order, rad/s (sim units scaled back), or None if it has none."""
        if len(msg.velocity) != len(msg.name):
            return None
        order = self.mapping.names if to_ros else JOINT_NAMES
        index = {name: i for i, name in enumerate(names)}
        velocity = np.array([msg.velocity[index[name]] for name in order], dtype=np.float64)
        return velocity / self.mapping.scale if to_ros else velocity

    def on_object_pose(self, name: str, msg: PoseStamped) -> None:
        try:
            pose = pose_from_message(msg)
        except ValueError as exc:
            self._reject(f"object_{name}", exc)
            return
        self.inputs.seen(OBJECT_PREFIX + name, time.time())
        self.session.add_object_pose(name, self._stamp(msg), pose)

    def on_action(self, msg: JointState) -> None:
        try:
            positions = positions_by_name(msg, JOINT_NAMES)
        except MalformedJointState as exc:
            self._reject("action", exc)
            return
        self.inputs.seen(ACTION, time.time())
        self.session.add_action(self._stamp(msg), positions)

    def on_image(self, camera: str, msg: Image) -> None:
        try:
            rgb = np.ascontiguousarray(rgb_from_image(msg))
        except ValueError as exc:
            self._reject(f"image_{camera}", exc)
            return
        frame = Frame(rgb, self.inputs.received[camera], time.monotonic(), self._stamp(msg))
        self.inputs.seen(camera, time.time())
        self.session.add_frame(camera, frame)

    def on_command_source(self, msg: String) -> None:
        """The command mux's switch (a String has no stamp: timed on arrival, on the samples' wall clock)."""
        self.session.add_intervention(time.time(), msg.data == OPERATOR_SOURCE)

    def on_instruction(self, msg: String) -> None:
        self.instruction = msg.data
        self.get_logger().info(f"instruction: {msg.data!r}")

    # --- control (services, keys) --------------------------------------------------------------

    def start_episode(self) -> tuple[bool, str]:
        missing = self.inputs.missing(time.time())
        if missing:
            return self._report(False, "waiting for input: " + describe_missing(missing))
        if not self.instruction:
            return self._report(
                False, f"no instruction: publish one on {POLICY_INSTRUCTION.name} or set the instruction parameter"
            )
        ok, outcome = self._wait(self.session.start(self.instruction))
        return self._report(ok, f"recording episode {outcome}: {self.instruction!r}" if ok else outcome)

    def stop_episode(self, success: bool) -> tuple[bool, str]:
        ok, outcome = self._wait(self.session.stop(success))
        return self._report(ok, describe_stop(*outcome) if ok else outcome)

    def mark_subtask(self) -> tuple[bool, str]:
        ok, outcome = self._wait(self.session.mark_subtask())
        return self._report(ok, f"subtask {outcome} ends here" if ok else outcome)

    def discard_episode(self) -> tuple[bool, str]:
        ok, outcome = self._wait(self.session.discard())
        return self._report(ok, f"episode {outcome} discarded" if ok else outcome)

    def _wait(self, future: Future) -> tuple[bool, object]:
        """(True, the command's result) or (False, why it failed)."""
        try:
            return True, future.result(COMMAND_TIMEOUT_S)
        except concurrent.futures.TimeoutError:  # not the builtin TimeoutError before Python 3.11
            return False, f"the recorder did not answer within {COMMAND_TIMEOUT_S:.0f} s (writer far behind?)"
        except RecorderError as exc:
            return False, str(exc)
        except Exception as exc:  # noqa: BLE001 - e.g. an h5py or PyAV error: the operator gets it as the answer
            return False, f"{type(exc).__name__}: {exc}"

    def _report(self, ok: bool, message: str) -> tuple[bool, str]:
        if ok:
            self.get_logger().info(message)
        else:
            self.get_logger().warning(message)
        return ok, message

    def on_start(self, _request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        response.success, response.message = self.start_episode()
        return response

    def on_stop(self, request: SetBool.Request, response: SetBool.Response) -> SetBool.Response:
        response.success, response.message = self.stop_episode(request.data)
        return response

    def on_discard(self, _request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        response.success, response.message = self.discard_episode()
        return response

    def on_mark(self, _request: Trigger.Request, response: Trigger.Response) -> Trigger.Response:
        response.success, response.message = self.mark_subtask()
        return response

    def key_mark(self) -> str:
        return self.mark_subtask()[1]

    def key_start(self) -> str:
        return self.start_episode()[1]

    def key_stop(self, success: bool) -> str:
        return self.stop_episode(success)[1]

    def on_recording_error(self, exc: RecorderError) -> None:
        self.get_logger().error(f"recording stopped: {exc}")

    # --- status --------------------------------------------------------------------------------

    def status_line(self) -> str:
        now = time.time()
        status = self.session.status
        missing = self.inputs.missing(now)
        if missing and not status.recording:
            return "waiting for " + describe_missing(missing)
        return status.line(now)

    def show_status(self) -> None:
        self.terminal.show(self.status_line())

    def log_waiting(self) -> None:
        """Say which inputs are missing, once each time the set of missing topics changes."""
        missing = self.inputs.missing(time.time())
        if set(missing) != self._waiting_logged:
            if missing:
                self.get_logger().warning("waiting for input: " + describe_missing(missing))
            else:
                self.get_logger().info("every input is arriving")
        self._waiting_logged = set(missing)

    def health(self) -> Health:
        status = self.session.status
        values: dict[str, object] = {
            "episode": status.episode,
            "steps": status.steps,
            "dropped_steps": status.dropped,
            "late_samples": status.late,
            "saved_episodes": status.saved,
            "failed_episodes": status.failed,
            "backlog": status.backlog,
            "overflow_samples": status.overflow,
            **{f"received_{stream}": count for stream, count in self.inputs.received.items()},
            **{f"dropped_for_{stream}": count for stream, count in status.missing.items()},
            **{f"rejected_{what}": count for what, count in self.rejected.items()},
        }
        missing = self.inputs.missing(time.time())
        if status.error and not status.recording:
            return Health(ERROR, f"recording stopped: {status.error}", values)
        if missing:
            return Health(WARN, "waiting for input: " + describe_missing(missing), values)
        if status.overflow:
            return Health(WARN, f"writer fell behind: {status.overflow} samples refused", values)
        return Health(OK, f"recording episode {status.episode}" if status.recording else "idle", values)

    def destroy_node(self) -> None:
        self.terminal.stop()
        self.session.close()
        super().destroy_node()


main = node_main(RecorderNode)


if __name__ == "__main__":
    sys.exit(main())
