"""Seed-demo recorder (pure library; the ROS recorder node wraps it).

Samples (joint states, commands, camera frames) are aligned onto a fixed-rate grid (alignment.py)
and written, episode by episode, into an Isaac Lab / LeIsaac HDF5 file (hdf5_writer.py) and/or a
LeRobot v3.0 dataset (lerobot_writer.py)::

    recorder = DemoRecorder(RecorderConfig(cameras=("wrist", "front")),
                            [Hdf5DemoWriter(Hdf5WriterConfig(path)), LeRobotDatasetWriter(config, units)])
    recorder.start(now, "pick up the red cube")
    ... recorder.add_joint_state(stamp, radians); recorder.add_action(stamp, radians)
    ... recorder.add_frame("wrist", frame); recorder.advance(now)
    recorder.stop(now, success=True)
    recorder.close()
"""
from so101_sim_bridge.recorder.alignment import AlignmentConfig, AlignmentStats, StepAligner
from so101_sim_bridge.recorder.episode import EpisodeInfo, EpisodeOutcome, EpisodeWriter, Step
from so101_sim_bridge.recorder.errors import (
    DiskFullError,
    OutputExistsError,
    RecorderError,
    RecorderStateError,
)
from so101_sim_bridge.recorder.hdf5_reader import Hdf5Dataset, Hdf5Demo, read_hdf5_demos
from so101_sim_bridge.recorder.hdf5_writer import Hdf5DemoWriter, Hdf5WriterConfig
from so101_sim_bridge.recorder.lerobot_writer import LeRobotDatasetWriter, LeRobotWriterConfig
from so101_sim_bridge.recorder.recorder import DemoRecorder, EpisodeSummary, RecorderConfig
from so101_sim_bridge.recorder.video import VIDEO_CODECS, VideoConfig

__all__ = [
    "VIDEO_CODECS",
    "AlignmentConfig",
    "AlignmentStats",
    "DemoRecorder",
    "DiskFullError",
    "EpisodeInfo",
    "EpisodeOutcome",
    "EpisodeSummary",
    "EpisodeWriter",
    "Hdf5Dataset",
    "Hdf5Demo",
    "Hdf5DemoWriter",
    "Hdf5WriterConfig",
    "LeRobotDatasetWriter",
    "LeRobotWriterConfig",
    "OutputExistsError",
    "RecorderConfig",
    "RecorderError",
    "RecorderStateError",
    "Step",
    "StepAligner",
    "VideoConfig",
    "read_hdf5_demos",
]
