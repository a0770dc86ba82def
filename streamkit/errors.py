"""Exceptions and warnings raised by streamkit.

Every exception specific to streamkit derives from :class:`StreamkitError`.
Errors about a wrong value also derive from :class:`ValueError`, so code that
catches the builtin keeps working.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = (
    "StreamkitError",
    "ConfigError",
    "ConfigProblem",
    "CompileError",
    "UnsupportedExpressionError",
    "SchemaError",
    "SourceError",
    "CheckpointError",
    "PerformanceWarning",
    "did_you_mean",
)


def did_you_mean(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or ``""`` when none is close (every error says it so).

    Examples
    --------
    >>> did_you_mean("paralelism", ["parallelism", "chunk_size"]), did_you_mean("zzz", ["a"])
    (" (did you mean 'parallelism'?)", '')
    """
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=cutoff)
    return f" (did you mean {close[0]!r}?)" if close else ""


class StreamkitError(Exception):
    """Root of every exception streamkit raises for its own reasons."""


@dataclass(frozen=True)
class ConfigProblem:
    """One problem found in a config: where it is and what is wrong.

    Attributes
    ----------
    path:
        Location in the config, e.g. ``networks[0].arcs[3].to``.
    message:
        What is wrong there, e.g. ``unknown state 'categorise' (did you mean 'categorize'?)``.
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(StreamkitError, ValueError):
    """A config is invalid; ``problems`` lists every problem found, with its path.

    Validation collects all problems before raising, so one run of a config
    shows everything that needs fixing.
    """

    def __init__(self, problems: list[ConfigProblem] | ConfigProblem | str) -> None:
        if isinstance(problems, str):
            problems = [ConfigProblem("", problems)]
        elif isinstance(problems, ConfigProblem):
            problems = [problems]
        self.problems: list[ConfigProblem] = list(problems)
        n = len(self.problems)
        head = "invalid config: 1 problem" if n == 1 else f"invalid config: {n} problems"
        msg = head + "\n" + "\n".join(f"  {p}" for p in self.problems)
        super().__init__(msg)


class CompileError(StreamkitError):
    """A network could not be compiled."""


class UnsupportedExpressionError(CompileError):
    """An inline expression uses a construct outside the compiled subset.

    Attributes
    ----------
    construct:
        The construct, as written in the source (e.g. ``__import__('time')``).
    line:
        1-based line of the construct within the function's code.
    """

    def __init__(self, message: str, *, construct: str = "", line: int = 0) -> None:
        self.construct = construct
        self.line = line
        super().__init__(message)


class SchemaError(StreamkitError, ValueError):
    """Input data does not have a shape streamkit can read."""


class SourceError(StreamkitError, ValueError):
    """A source file cannot be read (not the format its name says, truncated, corrupt).

    The message names the file and the format; the reader's own error is the
    ``__cause__``.
    """


class CheckpointError(StreamkitError, ValueError):
    """A stream cannot resume from its checkpoint: it was written by another run (a changed config,
    source, sinks or option), or it is not a checkpoint streamkit wrote."""


class PerformanceWarning(UserWarning):
    """Something runs, but much slower than it could (e.g. per-row Python)."""
