"""`so101-dataset from-bag BAG OUT`: a rosbag2 recording of the stack's topics as HDF5 + LeRobot v3.

The bag (MCAP or sqlite3, e.g. `ros2 bag record` of the joint states, commands, camera images
and the twin's object poses) is read with the `rosbags` library, no ROS needed, and replayed
into the same recorder the recorder node runs (settings.open_recorder with a RecorderNodeConfig:
the same parameters, alignment, writers, units), so a bag gives the files a live recording of
the same topics would have: one episode per bag, its edges placed as the node places them.
Time is the messages' header stamps (or the bag's receive times with stamp_on_arrival).

Topic names are the recorder's parameters resolved in `namespace` ("/" by default), so the
recorder.yaml that recorded live converts the bag too. A bag missing a topic is refused with
the bag's topic list and which parameter to set; nothing is left behind (output.whole_output).

Both outputs' provenance is a conversion step (the recorder's manifest, settings.recording_manifest)
whose source is the bag, hashed: an unknown source, since ros2 bag record writes no manifest.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import Progress
from rosbags.highlevel import AnyReader
from rosbags.interfaces import Connection

from so101_calibration import JOINT_NAMES, SimMapping
from so101_calibration.interface_contract import POLICY_INSTRUCTION
from so101_hardware.cameras import Frame
from so101_hardware.cameras.pixels import rgb_from_buffer
from so101_sim_bridge.datasets.errors import DatasetError
from so101_sim_bridge.datasets.output import whole_output
from so101_sim_bridge.provenance import CONVERSION, Source, source_of
from so101_sim_bridge.recorder.recorder import DemoRecorder, EpisodeSummary
from so101_sim_bridge.recorder.settings import RecorderNodeConfig, open_recorder

HDF5_NAME = "so101_demos.hdf5"
LEROBOT_NAME = "so101_lerobot"
NANOSECONDS = 1e-9


@dataclasses.dataclass(frozen=True)
class BagConversion:
    episodes: int
    summary: EpisodeSummary
    hdf5: Path | None
    lerobot: Path | None


def bag_to_datasets(bag: Path, out: Path, config: RecorderNodeConfig, namespace: str = "/",
                    success: bool = True, show_progress: bool = True) -> BagConversion:
    """Convert `bag` into OUT/so101_demos.hdf5 and OUT/so101_lerobot (as `config` asks: either may be off)."""
    bag = Path(bag)
    if not bag.exists():
        raise DatasetError(f"no rosbag2 at {bag} (give the bag's folder, or its .mcap/.db3 file)")
    with whole_output(Path(out)) as partial:
        partial.mkdir()
        config = dataclasses.replace(
            config, resume=False, keyboard=False,
            hdf5_path=str(partial / HDF5_NAME) if config.hdf5_path else "",
            lerobot_root=str(partial / LEROBOT_NAME) if config.lerobot_root else "",
        )
        origin = source_of(bag, partial / HDF5_NAME, show_progress=show_progress)
        summary = _replay(bag, config, namespace, success, show_progress, origin)
        if not any(place is not None for place in summary.saved_as):
            raise DatasetError(f"{bag}: the episode was not kept ({summary.steps} aligned steps; "
                               f"dropped for missing streams: {dict(summary.alignment.missing)})")
    hdf5 = Path(out) / HDF5_NAME if config.hdf5_path else None
    lerobot = Path(out) / LEROBOT_NAME if config.lerobot_root and (Path(out) / LEROBOT_NAME).exists() else None
    return BagConversion(1, summary, hdf5, lerobot)


def _replay(bag: Path, config: RecorderNodeConfig, namespace: str, success: bool, show_progress: bool,
            origin: Source) -> EpisodeSummary:
    try:
        reader = AnyReader([bag])
        reader.open()
    except Exception as exc:  # noqa: BLE001 - rosbags raises its own error types for every kind of bad input
        raise DatasetError(f"{bag} is not a readable rosbag2 (MCAP or sqlite3): {exc}") from None
    try:
        streams = _streams(reader, config, namespace, bag)
        recorder, mapping = open_recorder(config, CONVERSION, "so101-dataset from-bag", (origin,))
        try:
            return _feed(reader, streams, recorder, mapping, config, success, show_progress)
        finally:
            recorder.close()
    finally:
        reader.close()


def _streams(reader: AnyReader, config: RecorderNodeConfig, namespace: str, bag: Path) -> dict[str, tuple[str, Any]]:
    """Bag topic → (what it is, its key): the recorder's inputs, resolved in the namespace."""
    wanted: dict[str, tuple[str, Any]] = {
        _resolve(config.state_topic, namespace): ("state", None),
        _resolve(config.action_topic, namespace): ("action", None),
        **{_resolve(topic, namespace): ("image", camera) for camera, topic in config.camera_topic_map.items()},
        **{_resolve(topic, namespace): ("object", name) for name, topic in config.object_topic_map.items()},
    }
    present = {connection.topic for connection in reader.connections}
    missing = [topic for topic in wanted if topic not in present]
    if missing:
        raise DatasetError(
            f"{bag} lacks {', '.join(missing)} (the recorder's state_topic, action_topic, cameras and the task's "
            f"objects, in namespace {namespace!r}); it holds {', '.join(sorted(present)) or 'no topic'}. Record those "
            "topics, or point the parameters at the bag's (--set state_topic=..., --set cameras=[...], --namespace)"
        )
    instruction = _resolve(POLICY_INSTRUCTION.name, namespace)
    if instruction in present:
        wanted[instruction] = ("instruction", None)
    return wanted


def _feed(reader: AnyReader, streams: dict[str, tuple[str, Any]], recorder: DemoRecorder, mapping: SimMapping,
          config: RecorderNodeConfig, success: bool, show_progress: bool) -> EpisodeSummary:
    connections = [c for c in reader.connections if c.topic in streams]
    task = config.task_spec
    instruction = config.instruction or (task.instruction if task is not None else "")
    alignment = recorder.alignment
    newest = None
    started = False
    count = sum(c.msgcount for c in connections)
    with Progress(disable=not show_progress, transient=True) as progress:
        bar = progress.add_task("rosbag2 → recorder", total=count)
        for kind, key, stamp, msg in _messages(reader, connections, streams, config):
            progress.advance(bar)
            if kind == "instruction":
                instruction = msg.data
                continue
            if not started:
                if not instruction:
                    raise DatasetError("no instruction: the bag has no /policy/instruction; set the instruction "
                                       "parameter (--set instruction=...) or give a task")
                recorder.start(stamp + max(alignment.joint_tolerance_s, alignment.frame_tolerance_s), instruction)
                started = True
            _add(recorder, mapping, config, kind, key, stamp, msg)
            newest = stamp if newest is None else max(newest, stamp)
            recorder.advance(newest)
    if not started:
        raise DatasetError("the bag holds no message on the recorder's topics")
    return recorder.stop(newest - alignment.max_latency_s, success)


def _messages(reader: AnyReader, connections: list[Connection], streams: dict, config: RecorderNodeConfig
              ) -> Iterator[tuple[str, Any, float, Any]]:
    for connection, received_ns, raw in reader.messages(connections=connections):
        kind, key = streams[connection.topic]
        msg = reader.deserialize(raw, connection.msgtype)
        header = getattr(msg, "header", None)
        if config.stamp_on_arrival or header is None:
            stamp = received_ns * NANOSECONDS
        else:
            stamp = header.stamp.sec + header.stamp.nanosec * NANOSECONDS
        yield kind, key, stamp, msg


def _add(recorder: DemoRecorder, mapping: SimMapping, config: RecorderNodeConfig, kind: str, key: Any,
         stamp: float, msg: Any) -> None:
    """One bag message into the recorder, converted as the recorder node converts live messages."""
    if kind == "state":
        names = list(msg.name)
        positions = np.asarray(msg.position, dtype=np.float64)
        velocities = np.asarray(msg.velocity, dtype=np.float64) if len(msg.velocity) == len(names) else None
        order = list(mapping.names) if config.state_units == "sim" else list(JOINT_NAMES)
        index = [names.index(name) for name in order if name in names]
        if len(index) != len(order):
            return  # a state naming other joints: the node rejects it too
        if config.state_units == "sim":
            radians = mapping.from_sim(positions[index])
            speed = velocities[index] / mapping.scale if velocities is not None else None
        else:
            radians, speed = positions[index], velocities[index] if velocities is not None else None
        recorder.add_joint_state(stamp, radians, speed)
    elif kind == "action":
        names = list(msg.name)
        if all(name in names for name in JOINT_NAMES):
            recorder.add_action(stamp, np.asarray(msg.position, dtype=np.float64)[[names.index(n) for n in JOINT_NAMES]])
    elif kind == "image":
        rgb = rgb_from_buffer(msg.encoding, msg.height, msg.width, msg.step, msg.data)
        recorder.add_frame(key, Frame(np.ascontiguousarray(rgb), 0, stamp, stamp))
    elif kind == "object":
        p, q = msg.pose.position, msg.pose.orientation
        recorder.add_object_pose(key, stamp, [p.x, p.y, p.z, q.w, q.x, q.y, q.z])


def _resolve(topic: str, namespace: str) -> str:
    if topic.startswith("/"):
        return topic
    return "/" + "/".join(part for part in (namespace.strip("/"), topic) if part)
