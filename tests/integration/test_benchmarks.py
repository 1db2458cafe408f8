"""Every benchmark still runs and ends with its JSON line (figures are not asserted: no timing in tests)."""
import json
import subprocess
import sys

import pytest

from tests_support.repo import REPO
from tests_support.ros import domain_for_this_process

SHORT_RUNS = {
    "bus_cycle": ["--cycles", "20", "--rounds", "1"],
    "wire_roundtrip": ["--iterations", "20", "--rounds", "1"],
    "chunk_streaming": ["--seconds", "1", "--latencies-ms", "50", "150"],
    "teleop_latency": ["--seconds", "2", "--domain-id", "{domain}"],
    "twin_lag": ["--seconds", "2", "--frames", "2", "--domain-id", "{domain}"],
    "record_throughput": ["--seconds", "2", "--capacity-steps", "20", "--domain-id", "{domain}"],
    "image_messages": ["--rounds", "3"],
    "fault_soak": ["--seconds", "30", "--fault-period-s", "2", "--domain-id", "{domain}"],  # and {domain} + 1
    "mimicgen_throughput": ["--seeds", "1", "--trials", "2", "--camera-demos", "1", "--camera-fps", "2"],
}


def test_every_benchmark_has_a_short_run_here():
    assert {p.stem for p in (REPO / "benchmarks").glob("[!_]*.py")} == set(SHORT_RUNS)


@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.parametrize("name", sorted(SHORT_RUNS))
def test_benchmark_prints_a_table_then_one_json_line(name):
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / f"{name}.py"),
         *(arg.format(domain=domain_for_this_process(offset=37)) for arg in SHORT_RUNS[name])],
        capture_output=True, text=True, timeout=170, cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) > 2, "a readable table comes first"
    figures = json.loads(lines[-1])
    assert figures["benchmark"] == name
    assert all(isinstance(v, (int, float, str)) for v in figures.values())
