"""Which arm of a teleoperation pair a calibration belongs to.

LeRobot stores no role inside a calibration file: the role is the folder the file lives in
(robots/ for the follower, teleoperators/ for the leader). Keeping the role explicit everywhere
is how a leader's file is kept from being loaded for the follower.
"""
from __future__ import annotations

from enum import Enum


class ArmRole(Enum):
    LEADER = "leader"
    FOLLOWER = "follower"
