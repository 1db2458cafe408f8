"""The command mux, clock-injected: one source reaches the follower, switches ramp instead of stepping."""
from __future__ import annotations

import numpy as np
import pytest

from so101_hardware.command_mux import CommandMux, CommandMuxConfig, Source

DT = 0.01


def mux(**config) -> CommandMux:
    return CommandMux(CommandMuxConfig(**config))


def test_only_the_selected_source_reaches_the_follower():
    m = mux()
    assert m.source is Source.POLICY
    np.testing.assert_array_equal(m.on_command(Source.POLICY, np.full(6, 0.1), 0.0), np.full(6, 0.1))
    assert m.on_command(Source.OPERATOR, np.full(6, 0.5), 0.0) is None
    assert m.counters == {"forwarded_policy": 1, "held_back_operator": 1}


def test_the_operator_takes_over_only_near_the_follower_and_the_distance_is_told():
    m = mux(max_takeover_distance_rad=0.35)
    m.on_follower(np.zeros(6), 0.0)
    assert m.take_over(0.0) == "no fresh leader command (is teleop mirroring?) or follower state"
    m.on_command(Source.OPERATOR, np.r_[0.6, np.zeros(5)], 0.0)
    assert m.leader_distance(0.0) == pytest.approx(0.6)
    refusal = m.take_over(0.0)
    assert "0.60 rad from the follower" in refusal and "pose first" in refusal and m.source is Source.POLICY
    m.on_command(Source.OPERATOR, np.r_[0.3, np.zeros(5)], 0.1)
    assert m.take_over(0.1) is None and m.source is Source.OPERATOR
    assert m.leader_distance(1.0) is None, "stale readings tell no distance"


def run(m: CommandMux, source: Source, target, start: float, seconds: float) -> np.ndarray:
    """Feed `source` a (possibly moving) target every DT; the commands that reached the follower."""
    out = []
    for k in range(int(seconds / DT)):
        now = start + k * DT
        m.on_follower(np.zeros(6), now)
        command = m.on_command(source, np.asarray(target(now), dtype=float), now)
        if command is not None:
            out.append(command)
    return np.array(out)


def test_a_switch_ramps_from_the_command_in_force_to_the_live_new_source_at_the_set_speed():
    m = mux(switch_speed_rad_s=0.5, switch_min_duration_s=0.3, max_takeover_distance_rad=0.35)
    policy = run(m, Source.POLICY, lambda t: np.full(6, 0.1 * t), 0.0, 1.0)
    m.on_command(Source.OPERATOR, np.full(6, 0.4), 1.0)  # the leader 0.3 rad from the last policy target
    m.on_follower(policy[-1], 1.0)
    assert m.take_over(1.0) is None
    operator = run(m, Source.OPERATOR, lambda t: np.full(6, 0.4), 1.0, 2.0)
    steps = np.abs(np.diff(np.concatenate([policy, operator])[:, 0]))
    assert steps.max() <= 1.5 * 0.5 * DT + 1e-9, "no step: the smoothstep's peak is the switch speed"
    assert operator[0, 0] == pytest.approx(policy[-1, 0], abs=1e-9), "starts where the policy left the follower"
    np.testing.assert_allclose(operator[-1], 0.4), "ends on the leader"
    assert m.counters["switches_to_operator"] == 1


def test_hand_back_ramps_into_the_policy_which_resumes_from_the_present_pose():
    m = mux(switch_min_duration_s=0.3)
    m.on_follower(np.zeros(6), 0.0)
    m.on_command(Source.OPERATOR, np.zeros(6), 0.0)
    assert m.take_over(0.0) is None
    operator = run(m, Source.OPERATOR, lambda t: np.full(6, 0.05), 0.0, 1.0)
    m.on_follower(operator[-1], 1.0)
    assert m.hand_back(1.0) is None and m.source is Source.POLICY
    policy = run(m, Source.POLICY, lambda t: np.full(6, 0.05 + 0.2 * (t - 1.0)), 1.0, 1.0)
    steps = np.abs(np.diff(np.concatenate([operator, policy])[:, 0]))
    assert steps.max() < (0.2 + 1.5 * 0.5) * DT, "no faster than the policy's motion plus the ramp's peak"
    np.testing.assert_allclose(policy[-1], 0.05 + 0.2 * 0.99), "then on the policy's own course"
    assert m.hand_back(2.0) is None, "handing back to the driver already driving is a no-op"


def test_a_source_gone_silent_is_not_replaced():
    m = mux()
    m.on_follower(np.zeros(6), 0.0)
    m.on_command(Source.OPERATOR, np.zeros(6), 0.0)
    m.take_over(0.0)
    assert m.on_command(Source.POLICY, np.ones(6), 5.0) is None, "the follower holds on its own command timeout"


@pytest.mark.parametrize("field", ["max_takeover_distance_rad", "switch_speed_rad_s", "stale_timeout_s"])
def test_nonsense_configs_are_refused(field):
    with pytest.raises(ValueError, match=field):
        CommandMuxConfig(**{field: 0.0})
