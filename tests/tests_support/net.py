"""Free TCP ports on 127.0.0.1 for servers a test starts, and who listens where (Linux /proc/net)."""
from __future__ import annotations

import socket
from pathlib import Path

_LISTEN = "0A"


def free_ports(count: int) -> list[int]:
    """`count` distinct ports nothing listens on now (held together while chosen, so they differ)."""
    probes = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def listening_addresses(port: int) -> set[str]:
    """Every local address, IPv4 or IPv6, with a socket listening on `port`, e.g. {"127.0.0.1"}."""
    addresses = set()
    for table, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        path = Path("/proc/net") / table
        for line in path.read_text().splitlines()[1:] if path.exists() else ():
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if fields[3] == _LISTEN and int(hex_port, 16) == port:
                raw = bytes.fromhex(address)  # each 32-bit word in host (little-endian) order
                addresses.add(socket.inet_ntop(family, b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))))
    return addresses
