"""A validation report: the target, what the tool would miss or reject (problems), and notes."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Report:
    target: str
    path: Path
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def verdict(self) -> str:
        """One line: 'isaaclab: OK' or 'gr00t: 2 problems'."""
        if self.ok:
            return f"{self.target}: OK" + (f" ({len(self.notes)} note{'s' * (len(self.notes) != 1)})" if self.notes else "")
        return f"{self.target}: {len(self.problems)} problem{'s' * (len(self.problems) != 1)}"
