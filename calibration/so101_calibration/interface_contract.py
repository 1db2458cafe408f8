"""The stack's interface contract: every ROS topic and service, its type and QoS, and the default
network endpoints (policy server, rerun viewer), defined here and imported wherever they are used.

Why here: so101_calibration is the package every other one depends on, the ROS-free policy
server included, so the shared vocabulary (joint names, units, and this contract) lives at the
bottom of the stack. This module is plain data: it imports nothing, so graph data and checks,
the policy server on a GPU machine and Isaac Sim's Python can all read it. The ROS toolkit
(so101_hardware.ros) turns a `Topic` into a publisher or subscription with the right message
class and QoS profile; nodes never spell a topic name or a QoS themselves.

Names without a leading slash are relative: a node in namespace `arm1` publishes
`/arm1/follower/joint_states`. Absolute names (the simulator's topics, /diagnostics) are shared
by every namespace, as Isaac Sim and diagnostic aggregators expect. `{name}` in a camera topic is
the camera's name. docs/architecture.md §4 explains each entry.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Reliability = Literal["reliable", "best_effort"]
Durability = Literal["volatile", "transient_local"]


@dataclass(frozen=True)
class QosSpec:
    """A QoS profile as data (keep-last history of `depth`); so101_hardware.ros.qos builds the rclpy one."""

    reliability: Reliability
    depth: int
    durability: Durability = "volatile"


@dataclass(frozen=True)
class Topic:
    """One topic: its name (possibly a `{name}` template), message type ("pkg/msg/Type") and QoS."""

    name: str
    type: str
    qos: QosSpec

    def format(self, **fields: str) -> str:
        """The name with its `{...}` fields filled in, e.g. CAMERA_IMAGE.format(name="wrist")."""
        return self.name.format(**fields)


@dataclass(frozen=True)
class Service:
    name: str
    type: str


# --- QoS profiles ------------------------------------------------------------------------------
# Reliable wherever a message must not be lost or a reliable subscriber (Isaac Sim's) must match: a
# best-effort publisher never matches a reliable subscription. Best effort only where the newest
# sample is all that matters (camera images) or where a watcher must match any publisher.

STATE_QOS = QosSpec("reliable", 10)
"""Joint states and the twin's outputs."""
COMMAND_QOS = QosSpec("reliable", 1)
"""Commands to the follower: only the newest one may act."""
SENSOR_QOS = QosSpec("best_effort", 5)
"""Camera images and infos (rclpy's qos_profile_sensor_data: best effort, keep last 5)."""
LATCHED_QOS = QosSpec("reliable", 1, "transient_local")
"""The instruction, the follower's fault: a late subscriber still gets the last one."""
DIAGNOSTICS_QOS = QosSpec("reliable", 10)
WATCH_QOS = QosSpec("best_effort", 10)
"""Viewers (rerun): best effort matches reliable and best-effort publishers alike."""
RECORDED_SAMPLES_QOS = QosSpec("reliable", 100)
"""The recorder's joint-state and command subscriptions: a second of 100 Hz samples kept in DDS, so a
callback delayed by the writer thread (it holds the GIL while encoding) loses nothing."""
RECORDED_IMAGES_QOS = QosSpec("best_effort", 30)
"""The recorder's image subscriptions: sensor-data reliability, a second of 30 fps frames."""
SIM_COMMAND_SUBSCRIBER_QOS = QosSpec("reliable", 1)
"""Isaac Sim's joint-command subscription (the action graph): its subscriber takes one message per graph
tick, so with the publisher's depth 10 and ~100 Hz commands a slower graph would apply the oldest of ten
queued commands (up to ~100 ms behind). Depth 1 keeps only the newest; reliable still matches the
bridge's reliable publisher."""

# --- message types -----------------------------------------------------------------------------

JOINT_STATE = "sensor_msgs/msg/JointState"
IMAGE = "sensor_msgs/msg/Image"
CAMERA_INFO_TYPE = "sensor_msgs/msg/CameraInfo"
FLOAT64 = "std_msgs/msg/Float64"
STRING = "std_msgs/msg/String"
JOINT_TRAJECTORY = "trajectory_msgs/msg/JointTrajectory"
POSE_STAMPED = "geometry_msgs/msg/PoseStamped"
DIAGNOSTIC_ARRAY = "diagnostic_msgs/msg/DiagnosticArray"
SET_BOOL = "std_srvs/srv/SetBool"
TRIGGER = "std_srvs/srv/Trigger"

# --- topics ------------------------------------------------------------------------------------

LEADER_JOINT_STATES = Topic("leader/joint_states", JOINT_STATE, STATE_QOS)
"""Radians and rad/s; stamp = the bus read's time."""
FOLLOWER_JOINT_STATES = Topic("follower/joint_states", JOINT_STATE, STATE_QOS)
"""Radians, rad/s and load (% of max torque); stamp = the bus read's time."""
FOLLOWER_JOINT_COMMANDS = Topic("follower/joint_commands", JOINT_STATE, COMMAND_QOS)
"""Position targets in radians, by joint name: the only way to move the follower (its safety filter)."""
FOLLOWER_FAULT = Topic("follower/fault", STRING, LATCHED_QOS)
"""Why the follower is latched off (a brown-out, a servo error, a lost port), or "" while it is not."""
TELEOP_JOINT_COMMANDS = Topic("teleop/joint_commands", JOINT_STATE, COMMAND_QOS)
"""Teleop's targets when a command mux chooses who drives the follower (the operator's input)."""
POLICY_JOINT_COMMANDS = Topic("policy/joint_commands", JOINT_STATE, COMMAND_QOS)
"""The inference node's targets when a command mux chooses who drives the follower (the policy's input)."""
COMMAND_SOURCE = Topic("command_mux/source", STRING, LATCHED_QOS)
"""Who drives the follower now, POLICY_SOURCE or OPERATOR_SOURCE, on every change (the recorder's intervention flag)."""
POLICY_SOURCE = "policy"
OPERATOR_SOURCE = "operator"
CAMERA_IMAGE = Topic("cameras/{name}/image_raw", IMAGE, SENSOR_QOS)
"""rgb8; stamp = capture time."""
CAMERA_INFO = Topic("cameras/{name}/camera_info", CAMERA_INFO_TYPE, SENSOR_QOS)
SIM_JOINT_COMMAND = Topic("/isaac_joint_command", JOINT_STATE, STATE_QOS)
"""Position targets for the simulator, in its joint names and units (Isaac Sim's subscriber: reliable, depth 10)."""
SIM_JOINT_STATES = Topic("/isaac_joint_states", JOINT_STATE, STATE_QOS)
"""The simulated arm's state, in its joint names and units."""
SIM_CAMERA_IMAGE = Topic("/sim/cameras/{name}/image_raw", IMAGE, SENSOR_QOS)
"""The simulator's renderings of the real cameras, under the same names."""
SIM_OBJECT_POSE = Topic("/sim/objects/{name}/pose", POSE_STAMPED, STATE_QOS)
"""A simulated object's pose (m, unit quaternion) in the robot root frame (frame_id `base`); `{name}` is the
object's name in the simulator's scene. The recorder records the objects a task spec names (Isaac Lab's
rigid_object states and Mimic's object poses)."""
TWIN_TRACKING = Topic("twin/tracking", JOINT_STATE, STATE_QOS)
"""position = twin − target per joint, ROS radians."""
TWIN_LAG = Topic("twin/lag", FLOAT64, STATE_QOS)
"""Seconds from a follower state's stamp to the simulator's echo of it."""
POLICY_INSTRUCTION = Topic("policy/instruction", STRING, LATCHED_QOS)
POLICY_CHUNK = Topic("policy/chunk", JOINT_TRAJECTORY, STATE_QOS)
"""Each chunk merged into the plan: stamp = observation time, time_from_start = when each action is due."""
DIAGNOSTICS = Topic("/diagnostics", DIAGNOSTIC_ARRAY, DIAGNOSTICS_QOS)
ROBOT_DESCRIPTION = Topic("robot_description", STRING, LATCHED_QOS)
"""The SO-101 URDF: robot_state_publisher (rviz:=true) publishes it for RViz's RobotModel display."""
STATE_PUBLISHER_JOINT_STATES = Topic("joint_states", JOINT_STATE, STATE_QOS)
"""robot_state_publisher's input, remapped to the follower's or the leader's joint states (rviz:=true)."""

# --- services ----------------------------------------------------------------------------------

FOLLOWER_ESTOP = Service("follower/estop", SET_BOOL)
"""true latches the e-stop (hold, or torque off), false clears it."""
FOLLOWER_REENABLE = Service("follower/reenable", TRIGGER)
"""After a fault: check the servos, enable torque holding the present pose (only ever the operator's call)."""
TELEOP_ENGAGE = Service("teleop/engage", SET_BOOL)
"""true ramps the follower to the leader, then mirrors; false: the follower holds."""
POLICY_RUN = Service("policy/run", SET_BOOL)
"""true streams policy actions from the present pose; false stops (the follower holds)."""
SIM_RESET_OBJECTS = Service("/sim/reset_objects", TRIGGER)
"""The simulator puts its scene's objects back where the scene starts them (between demos)."""
OPERATOR_TAKEOVER = Service("command_mux/takeover", SET_BOOL)
"""true: the operator takes over with the leader (the follower ramps to it); false: hand back to the policy."""
RECORDER_START = Service("recorder/start", TRIGGER)
RECORDER_STOP = Service("recorder/stop", SET_BOOL)
"""data = success."""
RECORDER_DISCARD = Service("recorder/discard", TRIGGER)
RECORDER_MARK_SUBTASK = Service("recorder/mark_subtask", TRIGGER)
"""The operator marks the end of the current subtask at this step (LeIsaac's manual annotation)."""

TOPICS: tuple[Topic, ...] = (
    LEADER_JOINT_STATES, FOLLOWER_JOINT_STATES, FOLLOWER_JOINT_COMMANDS, FOLLOWER_FAULT, TELEOP_JOINT_COMMANDS,
    POLICY_JOINT_COMMANDS, COMMAND_SOURCE, CAMERA_IMAGE, CAMERA_INFO, SIM_JOINT_COMMAND, SIM_JOINT_STATES,
    SIM_CAMERA_IMAGE, SIM_OBJECT_POSE, TWIN_TRACKING, TWIN_LAG, POLICY_INSTRUCTION, POLICY_CHUNK, DIAGNOSTICS,
)
"""The stack's own topics. ROBOT_DESCRIPTION and STATE_PUBLISHER_JOINT_STATES are robot_state_publisher's
(rviz:=true), names ROS gives them: listed for the graph that remaps them, not here, so that the same
words used for other things (a parameter, a diagnostics key) are not taken for topic names."""
SERVICES: tuple[Service, ...] = (
    FOLLOWER_ESTOP, FOLLOWER_REENABLE, TELEOP_ENGAGE, POLICY_RUN, OPERATOR_TAKEOVER, SIM_RESET_OBJECTS,
    RECORDER_START, RECORDER_STOP, RECORDER_DISCARD, RECORDER_MARK_SUBTASK,
)



def camera_topics(entries: tuple[str, ...] | list[str], default: Topic = CAMERA_IMAGE) -> dict[str, str]:
    """Camera entries as nodes take them ("wrist", or "wrist=/other/image_raw") → camera name → image topic.

    A bare name reads `default` for that camera. ValueError for an empty name, an empty topic
    after "=", or a name given twice, listing the entries.
    """
    topics: dict[str, str] = {}
    for entry in entries:
        name, equals, topic = (part.strip() for part in entry.partition("="))
        if not name or name in topics or (equals and not topic):
            raise ValueError(
                f"cameras: entry {entry!r} has no name, no topic after '=', or repeats a name; give distinct "
                f"<name> or <name>=<topic> entries (entries: {list(entries)})"
            )
        topics[name] = topic or default.format(name=name)
    return topics


# --- network endpoints -------------------------------------------------------------------------

LOOPBACK_HOST = "127.0.0.1"
"""Servers bind loopback unless told otherwise; clients look for the policy server there (an SSH tunnel's end)."""
POLICY_PORT = 5555
"""Isaac-GR00T's policy server port."""
RERUN_GRPC_PORT = 9877
"""The rerun node's server; beside rerun's own 9876, which LeRobot's --display_data takes."""
RERUN_WEB_PORT = 9878
"""The rerun node's web viewer; beside rerun's own 9090."""
