"""Where a stream's records go: a sink per end state, and one for failed records."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from streamkit.io import Collector, Sink, open_sink

__all__ = ("Routes", "error_path_for")


def error_path_for(path: Path) -> Path:
    """The default error file beside a file sink: ``out.jsonl`` → ``out.errors.jsonl``.

    Examples
    --------
    >>> error_path_for(Path("data/out.parquet")).as_posix()
    'data/out.errors.jsonl'
    """
    return path.with_name(f"{path.stem}.errors.jsonl")


class Routes:
    """The sinks of a stream, opened; end states without a sink are collected in memory.

    ``sink`` receives every end state that ``sinks`` does not name; failed records
    go to ``error_sink``, else to ``<stem>.errors.jsonl`` beside the first file sink,
    else into memory (the result's ``errors()``). Nothing is ever dropped.
    """

    def __init__(
        self,
        end_states: list[str],
        *,
        sink: Any = None,
        sinks: Mapping[str, Any] | None = None,
        error_sink: Any = None,
        sink_format: str | None = None,
    ) -> None:
        sinks = dict(sinks or {})
        unknown = [k for k in sinks if k not in end_states]
        if unknown:
            msg = (
                f"`sinks` names {', '.join(map(repr, unknown))}, which "
                f"{'is not an end state' if len(unknown) == 1 else 'are not end states'}"
                f" (end states: {', '.join(map(repr, end_states))})"
            )
            raise ValueError(msg)
        self._opened: list[Sink] = []
        self.collected: dict[str, Collector] = {}
        self.by_state: dict[str, Sink] = {}
        shared = self._open(sink, sink_format) if sink is not None else None
        for state in end_states:
            if state in sinks:
                self.by_state[state] = self._open(sinks[state], sink_format)
            elif shared is not None:
                self.by_state[state] = shared
            else:
                self.by_state[state] = self.collected.setdefault(state, Collector())
        if error_sink is not None:
            self.errors = self._open(error_sink, None)
        else:
            first_file = next((s.path for s in self._opened if getattr(s, "path", None) is not None), None)
            if first_file is not None:
                self.errors = self._open(error_path_for(Path(first_file)), "jsonl")
            else:
                self.errors = Collector()
        self.collected_errors = self.errors if isinstance(self.errors, Collector) else None

    def _open(self, target: Any, fmt: str | None) -> Sink:
        s = target if isinstance(target, Collector) else open_sink(target, format=fmt)
        if all(s is not o for o in self._opened):
            self._opened.append(s)
        return s

    def groups(self) -> list[tuple[Sink, list[str]]]:
        """Each distinct sink with the end states it receives (in end-state order)."""
        out: dict[int, tuple[Sink, list[str]]] = {}
        for state, s in self.by_state.items():
            out.setdefault(id(s), (s, []))[1].append(state)
        return list(out.values())

    def file_paths(self) -> dict[str, str]:
        """End state (or ``"errors"``) → path of the file it was written to."""
        paths = {state: str(s.path) for state, s in self.by_state.items() if getattr(s, "path", None)}
        if getattr(self.errors, "path", None):
            paths["errors"] = str(self.errors.path)
        return paths

    def close(self) -> None:
        """Commit every sink (files move into place)."""
        for s in self._opened:
            s.close()

    def abort(self) -> None:
        """Drop what the sinks wrote: no partial file is left looking complete."""
        for s in self._opened:
            with contextlib.suppress(Exception):  # abort every sink even if one fails
                s.abort()
