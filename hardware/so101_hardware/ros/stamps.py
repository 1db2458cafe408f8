"""ROS time stamps (builtin_interfaces Time and Duration) ↔ float seconds."""
from __future__ import annotations

from builtin_interfaces.msg import Duration, Time


def stamp_from_seconds(seconds: float) -> Time:
    whole = int(seconds)
    return Time(sec=whole, nanosec=int(round((seconds - whole) * 1e9)) % 1_000_000_000)


def duration_from_seconds(seconds: float) -> Duration:
    stamp = stamp_from_seconds(seconds)
    return Duration(sec=stamp.sec, nanosec=stamp.nanosec)


def seconds_from_stamp(stamp: Time | Duration) -> float:
    """A stamp (or a Duration: the same sec/nanosec fields) as float seconds."""
    return stamp.sec + stamp.nanosec * 1e-9
