"""Teleop mapping and the engage ramp, with an explicit clock."""
import numpy as np
import pytest

from so101_hardware.teleop import TeleopConfig, TeleopMapper, TeleopState

LEADER = np.array([0.5, -0.2, 0.3, 0.0, 1.0, 0.4])


def test_mirrors_only_after_engage_and_ramp():
    mapper = TeleopMapper(TeleopConfig(engage_speed_rad_s=1.0))
    assert mapper.on_leader(LEADER, stamp=0.0, now=0.0) is None  # disengaged: nothing is sent
    assert mapper.engage(np.zeros(6), now=0.0)
    assert mapper.ramp_duration_s == pytest.approx(1.5)  # 1.5 × largest distance (1.0 rad) / 1 rad/s
    commands = []
    for k in range(1, 200):
        now = k * 0.01
        mapper.on_leader(LEADER, stamp=now, now=now)
        command = mapper.tick(now)
        if command is not None:
            commands.append(command)
    assert mapper.state is TeleopState.MIRRORING
    np.testing.assert_allclose(commands[-1], LEADER)  # the ramp ends on the leader
    steps = np.abs(np.diff(np.array(commands), axis=0)).max(axis=0) / 0.01
    assert steps.max() <= 1.0 + 1e-9  # peak speed = engage speed for a still leader
    np.testing.assert_allclose(mapper.on_leader(LEADER + 0.1, stamp=2.0, now=2.0), LEADER + 0.1)


def test_ramp_ends_on_time_while_the_leader_keeps_moving():
    mapper = TeleopMapper(TeleopConfig(engage_speed_rad_s=0.5))
    mapper.on_leader(LEADER, 0.0, 0.0)
    mapper.engage(np.zeros(6), 0.0)
    now = 0.0
    while mapper.state is TeleopState.RAMPING and now < 10:
        now += 0.01
        moving = LEADER + 0.3 * np.sin(now * 4)
        mapper.on_leader(moving, now, now)
        last = mapper.tick(now)
    assert now == pytest.approx(mapper.ramp_duration_s, abs=0.011)
    np.testing.assert_allclose(last, moving)


def test_stale_leader_data_is_never_forwarded():
    mapper = TeleopMapper(TeleopConfig(stale_timeout_s=0.25))
    mapper.on_leader(LEADER, 0.0, 0.0)
    mapper.engage(LEADER, 0.0)
    mapper.on_leader(LEADER, 0.6, 0.6)
    assert mapper.tick(0.6) is not None and mapper.state is TeleopState.MIRRORING  # min duration 0.5 s
    assert mapper.on_leader(LEADER, stamp=1.0, now=1.3) is None
    assert mapper.counters["stale_leader_samples"] == 1
    assert not mapper.engage(LEADER, now=5.0), "no engaging towards data that is not fresh"


def test_scale_offset_and_gripper_range_mapping():
    config = TeleopConfig(
        joint_scale=(2.0, 1, 1, 1, 1, 1), joint_offset_rad=(0, 0.1, 0, 0, 0, 0),
        gripper_leader_range_rad=(0.0, 1.0), gripper_follower_range_rad=(-0.2, 1.4),
    )
    mapped = TeleopMapper(config).map(LEADER)
    np.testing.assert_allclose(mapped[:2], [1.0, -0.1])
    assert mapped[5] == pytest.approx(-0.2 + 0.4 * 1.6)


@pytest.mark.parametrize(
    "bad",
    [dict(stale_timeout_s=0), dict(joint_scale=(1.0,) * 5), dict(joint_offset_rad=(float("nan"),) * 6),
     dict(gripper_leader_range_rad=(0.0, 1.0)), dict(gripper_leader_range_rad=(1.0, 1.0), gripper_follower_range_rad=(0.0, 1.0))],
)
def test_invalid_configs_name_the_field(bad):
    with pytest.raises(ValueError, match=next(iter(bad)).split("_rad")[0].split("_s")[0][:10]):
        TeleopConfig(**bad)
