"""What a flow author is told: one problem, at one place in one file."""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """``file:line:column: severity: message``, the format editors and CI understand."""

    file: str
    line: int
    column: int
    severity: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.severity}: {self.message}"


class FlowSetError(Exception):
    """The flow files hold errors: nothing may be served from them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        errors = [p for p in self.problems if p.severity == ERROR]
        lines = "\n".join(str(p) for p in self.problems)
        super().__init__(f"{len(errors)} error(s) in the flow files:\n{lines}")
