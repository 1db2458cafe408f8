"""Dataset tools for seed demos (pure libraries; `so101-dataset` is cli.py).

info (info.py), validate per target tool (validate.py), offline Mimic annotation (annotate.py),
HDF5 → LeRobot v3 (to_lerobot.py, through the recorder's writer), LeRobot v3 → Isaac-GR00T's v2.1
layout (to_gr00t.py), rosbag2 → HDF5 + LeRobot v3 (from_bag.py, through the recorder itself).
Outputs appear whole or not at all (output.py); bad input raises DatasetError.
"""
from so101_sim_bridge.datasets.annotate import annotate_file
from so101_sim_bridge.datasets.errors import DatasetError
from so101_sim_bridge.datasets.from_bag import bag_to_datasets
from so101_sim_bridge.datasets.info import describe
from so101_sim_bridge.datasets.to_gr00t import lerobot_to_gr00t, modality
from so101_sim_bridge.datasets.to_lerobot import hdf5_to_lerobot
from so101_sim_bridge.datasets.report import Report
from so101_sim_bridge.datasets.validate import TARGETS, validate

__all__ = [
    "TARGETS",
    "DatasetError",
    "Report",
    "annotate_file",
    "bag_to_datasets",
    "describe",
    "hdf5_to_lerobot",
    "lerobot_to_gr00t",
    "modality",
    "validate",
]
