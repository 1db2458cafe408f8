"""Benchmark: one control cycle = SYNC_READ of 6 Present_Position + SYNC_WRITE of 6 Goal_Position.

Run as `python benchmarks/bus_cycle.py`. Against the bus emulator (own process, 1 Mbps, UART
timing), measured in the same run:
  - our driver (so101_hardware.bus.FeetechBus) with its default bounded poll window around each
    reply's expected arrival (spin_s), and with spin_s=0 (always asleep in select()),
  - the unmodified feetech-servo-sdk GroupSyncRead/GroupSyncWrite loop (the baseline),
  - the floor from bytes on the wire (10 bit times per byte at the baud rate).
Goals (issue 2): our rate ≥ the SDK's, ≥ 50 % of the wire floor, CPU time per cycle below the SDK's.
Prints a table, then one JSON line with the figures. Rounds alternate so drift hits both loops.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _emulator_process import emulator_process  # noqa: E402

from so101_hardware import sts_protocol  # noqa: E402
from so101_hardware.bus import BusConfig, FeetechBus  # noqa: E402
from so101_hardware.control_table import register  # noqa: E402

IDS = [1, 2, 3, 4, 5, 6]
BAUD = 1_000_000
POSITION = register("Present_Position")
GOAL = register("Goal_Position")


@dataclass
class LoopResult:
    name: str
    cycle_s: np.ndarray
    cpu_s: float
    failures: int

    @property
    def rate_hz(self) -> float:
        return len(self.cycle_s) / float(self.cycle_s.sum())

    def percentile_ms(self, q: float) -> float:
        return float(np.percentile(self.cycle_s, q) * 1e3)

    @property
    def cpu_ms_per_cycle(self) -> float:
        return self.cpu_s / len(self.cycle_s) * 1e3


def wire_floor_s() -> float:
    request = len(sts_protocol.sync_read(POSITION.address, POSITION.size, IDS))
    replies = len(IDS) * sts_protocol.status_length(POSITION.size)
    write = len(sts_protocol.sync_write(GOAL.address, GOAL.size, {i: b"\x00\x08" for i in IDS}))
    return (request + replies + write) * 10 / BAUD


def time_loop(name: str, cycle: Callable[[int], bool], n: int) -> LoopResult:
    times = np.empty(n)
    failures = 0
    cpu0 = time.process_time()
    for i in range(n):
        t0 = time.perf_counter()
        failures += 0 if cycle(i) else 1
        times[i] = time.perf_counter() - t0
    return LoopResult(name, times, time.process_time() - cpu0, failures)


def goal_for(i: int) -> int:
    return 2048 + int(200 * np.sin(i / 50))


def our_driver_loop(port: str, n: int, spin_s: float = BusConfig.spin_s) -> LoopResult:
    name = "so101_hardware.bus" if spin_s else "so101_hardware.bus spin_s=0"
    with FeetechBus(BusConfig(port, BAUD, spin_s=spin_s)) as bus:

        def cycle(i: int) -> bool:
            positions = bus.sync_read("Present_Position", IDS)
            bus.sync_write("Goal_Position", {mid: goal_for(i) for mid in positions})
            return len(positions) == len(IDS)

        cycle(0)  # warm-up
        return time_loop(name, cycle, n)


def sdk_loop(port: str, n: int) -> LoopResult:
    import scservo_sdk as scs

    port_handler = scs.PortHandler(port)
    if not port_handler.openPort() or not port_handler.setBaudRate(BAUD):
        raise RuntimeError(f"feetech-servo-sdk could not open {port}")
    packet_handler = scs.PacketHandler(0)
    reader = scs.GroupSyncRead(port_handler, packet_handler, POSITION.address, POSITION.size)
    writer = scs.GroupSyncWrite(port_handler, packet_handler, GOAL.address, GOAL.size)
    for mid in IDS:
        reader.addParam(mid)

    def cycle(i: int) -> bool:
        ok = reader.txRxPacket() == scs.COMM_SUCCESS
        positions = {mid: reader.getData(mid, POSITION.address, POSITION.size) for mid in IDS}
        writer.clearParam()
        for mid in positions:
            writer.addParam(mid, list(GOAL.encode(goal_for(i))))
        writer.txPacket()
        return ok

    try:
        cycle(0)
        return time_loop("feetech-servo-sdk (baseline)", cycle, n)
    finally:
        port_handler.closePort()


def merge(results: list[LoopResult]) -> LoopResult:
    return LoopResult(
        results[0].name,
        np.concatenate([r.cycle_s for r in results]),
        sum(r.cpu_s for r in results),
        sum(r.failures for r in results),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=1000, help="cycles per loop per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    ours, no_spin, sdk = [], [], []
    with emulator_process("--baud", str(BAUD)) as port:
        for _ in range(args.rounds):
            ours.append(our_driver_loop(port, args.cycles))
            no_spin.append(our_driver_loop(port, args.cycles, spin_s=0.0))
            sdk.append(sdk_loop(port, args.cycles))
    ours_r, no_spin_r, sdk_r = merge(ours), merge(no_spin), merge(sdk)
    floor = wire_floor_s()

    print(f"bus cycle: sync read 6×Present_Position + sync write 6×Goal_Position, emulator at {BAUD} baud")
    print(f"{'loop':32s} {'cycles/s':>9s} {'p50 ms':>8s} {'p99 ms':>8s} {'CPU ms/cycle':>13s} {'failed':>7s}")
    for r in (ours_r, no_spin_r, sdk_r):
        print(
            f"{r.name:32s} {r.rate_hz:9.0f} {r.percentile_ms(50):8.3f} {r.percentile_ms(99):8.3f} "
            f"{r.cpu_ms_per_cycle:13.3f} {r.failures:7d}"
        )
    print(f"{'wire floor (bytes on the wire)':32s} {1 / floor:9.0f} {floor * 1e3:8.3f}")
    figures = {
        "benchmark": "bus_cycle",
        "baud": BAUD,
        "cycles": int(len(ours_r.cycle_s)),
        "ours_hz": round(ours_r.rate_hz, 1),
        "ours_p50_ms": round(ours_r.percentile_ms(50), 4),
        "ours_p99_ms": round(ours_r.percentile_ms(99), 4),
        "ours_cpu_ms_per_cycle": round(ours_r.cpu_ms_per_cycle, 4),
        "ours_failures": ours_r.failures,
        "no_spin_hz": round(no_spin_r.rate_hz, 1),
        "no_spin_p50_ms": round(no_spin_r.percentile_ms(50), 4),
        "no_spin_cpu_ms_per_cycle": round(no_spin_r.cpu_ms_per_cycle, 4),
        "sdk_hz": round(sdk_r.rate_hz, 1),
        "sdk_p50_ms": round(sdk_r.percentile_ms(50), 4),
        "sdk_p99_ms": round(sdk_r.percentile_ms(99), 4),
        "sdk_cpu_ms_per_cycle": round(sdk_r.cpu_ms_per_cycle, 4),
        "sdk_failures": sdk_r.failures,
        "wire_floor_hz": round(1 / floor, 1),
        "ours_vs_sdk_rate": round(ours_r.rate_hz / sdk_r.rate_hz, 3),
        "ours_vs_floor_rate": round(ours_r.rate_hz * floor, 3),
        "ours_vs_sdk_cpu": round(ours_r.cpu_ms_per_cycle / sdk_r.cpu_ms_per_cycle, 3),
    }
    print(
        f"ratios: ours/SDK rate {figures['ours_vs_sdk_rate']}, ours/wire-floor rate {figures['ours_vs_floor_rate']}, "
        f"ours/SDK CPU per cycle {figures['ours_vs_sdk_cpu']}"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
