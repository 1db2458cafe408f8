"""ROS domain ids as every so101 command takes them: 0..232, checked before DDS sees them.

DDS maps a domain id to UDP ports; on Linux ids above 232 run past the port range and fail deep in
the middleware with an error that names neither the option nor the variable. `--domain-id` is
checked by the parser, `$ROS_DOMAIN_ID` (what rclpy uses when no id is given) before any command runs.
"""
from __future__ import annotations

import argparse
import os

MAX_DOMAIN_ID = 232
DOMAIN_VARIABLE = "ROS_DOMAIN_ID"


def _valid(text: str) -> bool:
    return text.isdigit() and int(text) <= MAX_DOMAIN_ID


def domain_id_argument(text: str) -> int:
    """argparse type of --domain-id."""
    if not _valid(text):
        raise argparse.ArgumentTypeError(f"a ROS domain id is 0..{MAX_DOMAIN_ID}, got {text!r}")
    return int(text)


def check_domain_environment() -> None:
    """ValueError naming $ROS_DOMAIN_ID if it is set to something other than 0..232 (empty means unset)."""
    text = os.environ.get(DOMAIN_VARIABLE, "")
    if text and not _valid(text.strip()):
        raise ValueError(
            f"{DOMAIN_VARIABLE}={text!r} is not a ROS domain id (0..{MAX_DOMAIN_ID}): unset it, or pass --domain-id"
        )
