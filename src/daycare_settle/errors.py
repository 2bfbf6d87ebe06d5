"""The library's errors: a small hierarchy, each with a stable ``code``.

Callers catch :class:`DaycareSettleError`; nothing else escapes the public entry points
for bad input or bad rule files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


class DaycareSettleError(Exception):
    """Base of every error this library raises on purpose."""

    code = "daycare_settle_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


@dataclass(frozen=True)
class FieldProblem:
    """One problem with the input: where (a path like ``charges[2].amount``) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def field_problem(error: Mapping[str, Any]) -> FieldProblem:
    """One pydantic validation error as a :class:`FieldProblem`: its location as a path
    (``charges[2].amount``), its message without pydantic's "Value error, " prefix, and plain
    words for an unknown or a missing field."""
    path = ""
    for part in error["loc"]:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{_key(str(part))}" if path else _key(str(part))
    message = str(error["msg"])
    if error["type"] == "extra_forbidden":
        message = "unknown field"
    elif error["type"] == "missing":
        message = "required field is missing"
    return FieldProblem(path, message.removeprefix("Value error, "))


def _key(name: str) -> str:
    """A field name as it may appear in a message: an unknown key from the input is shown
    escaped and cut short if it holds control characters or is long."""
    if len(name) <= 64 and name.isprintable():
        return name
    return ascii(name[:64]) + ("..." if len(name) > 64 else "")


class InvalidEpisode(DaycareSettleError, ValueError):
    """The episode is not valid input: malformed JSON, wrong types, inconsistent times.

    Bounded however bad the input: :attr:`problems` keeps the first :attr:`KEPT` problems,
    the message lists the first :attr:`SHOWN` and says how many more there are;
    :attr:`count` is how many were found in all. ``count`` may be given when the caller
    found more problems than it passes.
    """

    code = "invalid_episode"
    SUBJECT = "invalid episode"
    """What the message opens with: what was not valid."""
    KEPT = 100
    SHOWN = 20

    def __init__(self, problems: Sequence[FieldProblem], *, count: int | None = None) -> None:
        self.problems = tuple(problems[: self.KEPT])
        self.count = max(len(problems), count or 0)
        lines = "; ".join(str(p) for p in self.problems[: self.SHOWN])
        if self.count > self.SHOWN:
            lines += f"; ... and {self.count - self.SHOWN:,} more problems"
        super().__init__(f"{self.SUBJECT}: {lines}")


class UnknownPolicy(DaycareSettleError, LookupError):
    """No rule file has this policy id."""

    code = "unknown_policy"


class PolicyNotInForce(DaycareSettleError, LookupError):
    """The policy exists but no version of it is in force on the episode's admission date."""

    code = "policy_not_in_force"


class PolicyUnconfirmed(DaycareSettleError, LookupError):
    """Under ``strict=True``: the episode was admitted after the day up to which the policy's
    rule file was last confirmed against its source (``policy.confirmed_until``)."""

    code = "policy_unconfirmed"


class InvalidResult(DaycareSettleError, ValueError):
    """A stored result given to ``verify`` is not a settlement result's JSON object."""

    code = "invalid_result"


class PolicyLoadError(DaycareSettleError, ValueError):
    """A rule or catalogue file is not valid: names the file and line."""

    code = "policy_load_error"

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file = file
        self.line = line
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {message}")


class InvalidArgument(DaycareSettleError, TypeError):
    """An argument of a public function has the wrong type or form (e.g. ``policy=None``,
    ``on=`` given a datetime or text)."""

    code = "invalid_argument"
