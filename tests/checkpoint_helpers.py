"""Stopping checkpointed runs where a test says, as a crash would stop them, and reading directories of parts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import streamkit.engine.checkpoint as checkpoint_module

# the methods as the engine has them, whatever a test has patched since
_WRITTEN = checkpoint_module.Checkpoint.written
_COMMIT = checkpoint_module.Checkpoint.commit
_COMMIT_SECONDS = checkpoint_module.COMMIT_SECONDS


class Stop(Exception):
    """Raised inside a run to stop it where a test says (a crash)."""


def stop_after(monkeypatch: pytest.MonkeyPatch, k: int | None) -> None:
    """Make the next runs stop once their checkpoint holds ``k`` chunks (``None``: run to the end).

    Commits follow every chunk, so the checkpoint holds exactly ``k`` chunks.
    """
    if k is None:
        monkeypatch.setattr(checkpoint_module, "COMMIT_SECONDS", _COMMIT_SECONDS)
        monkeypatch.setattr(checkpoint_module.Checkpoint, "written", _WRITTEN)
        return
    monkeypatch.setattr(checkpoint_module, "COMMIT_SECONDS", 0.0)

    def stopping(self: Any, chunk: Any, codes: Any, tally: Any) -> None:
        _WRITTEN(self, chunk, codes, tally)
        if self.chunks >= k:
            raise Stop

    monkeypatch.setattr(checkpoint_module.Checkpoint, "written", stopping)


def stop_after_commits(monkeypatch: pytest.MonkeyPatch, n: int | None) -> list[int]:
    """Make the next run stop after its ``n``-th commit (a Ray run commits a slice at a time; ``None``: run
    to the end); the chunks the checkpoint held at each commit, filled in as the run commits."""
    commits: list[int] = []
    if n is None:
        monkeypatch.setattr(checkpoint_module.Checkpoint, "commit", _COMMIT)
        return commits

    def stopping(self: Any, tally: Any) -> None:
        _COMMIT(self, tally)
        commits.append(self.chunks)
        if len(commits) == n:
            raise Stop

    monkeypatch.setattr(checkpoint_module.Checkpoint, "commit", stopping)
    return commits


def joined(directory: Path) -> bytes:
    """The files of a directory of parts, one after another in the order of their names."""
    return b"".join(p.read_bytes() for p in sorted(directory.iterdir()))
