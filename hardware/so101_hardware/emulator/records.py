"""What the emulator observed: every goal that reached a servo, and traffic counters.

Tests and benchmarks judge a driver by these rather than by its own account of what it sent.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GoalRecord:
    """One Goal_Position write that reached a servo (by WRITE, SYNC_WRITE, ACTION or directly).

    motor_id is the servo's configured id (its identity in the emulator API); goal_ticks is what
    landed in the register after limit clamping, requested_ticks what was written.
    """

    t_monotonic: float
    motor_id: int
    goal_ticks: int
    requested_ticks: int
    torque_enabled: bool


@dataclass(frozen=True)
class PositionRecord:
    """One Present_Position a servo reported (in reply to a READ or SYNC_READ that starts at it),
    stamped when its reply was written to the port: with the GoalRecords, a leader read → follower
    goal latency measured by the hardware's side alone (teleop_latency benchmark)."""

    t_monotonic: float
    motor_id: int
    position_ticks: int


@dataclass
class EmulatorStats:
    """Counters since start. `BusEmulator.stats` hands out copies.

    packets_in:      well-framed instruction packets with a valid checksum
    packets_handled: of those, packets whose replies have all been written (or withheld); a test
                     waits on this before asserting that nothing was answered
    replies_out:     status packets written to the port (including corrupted ones)
    dropped:         replies withheld by the drop fault
    corrupted:       replies sent with a deliberately wrong checksum
    latency_spikes:  replies delayed by the latency-spike fault
    reordered:       SYNC_READs answered in shuffled order by the reorder fault
    bad_checksum_in: instruction packets ignored for a wrong checksum
    malformed:       packets ignored for parameters that do not fit the instruction
    unsupported:     packets ignored for an instruction code the STS3215 emulation lacks
    garbage_bytes:   bytes skipped while looking for a packet header
    stale_partial:   incomplete packets discarded after the line went quiet
    wrong_baud:      packets that an addressed servo could not hear at the client's baud rate
    overflow:        replies lost because the client is not reading the port
    power_cycles:    times every servo was switched off and on (power_cycle(), FaultConfig.power_cycle_at_s)
    """

    packets_in: int = 0
    packets_handled: int = 0
    replies_out: int = 0
    dropped: int = 0
    corrupted: int = 0
    latency_spikes: int = 0
    reordered: int = 0
    bad_checksum_in: int = 0
    malformed: int = 0
    unsupported: int = 0
    garbage_bytes: int = 0
    stale_partial: int = 0
    wrong_baud: int = 0
    overflow: int = 0
    power_cycles: int = 0
