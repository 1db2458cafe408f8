"""so101_calibration: the single owner of SO-101 joint names, calibration files and unit conversions.

Every other package asks this one what a joint is called and which motor id drives it, so a
renamed joint or a swapped id can only ever be wrong in one place.
"""
from so101_calibration.joints import JOINT_NAMES, MOTOR_IDS, Joint, SO101_JOINTS, joint_by_id, joint_by_name

__all__ = ["JOINT_NAMES", "MOTOR_IDS", "Joint", "SO101_JOINTS", "joint_by_id", "joint_by_name"]
