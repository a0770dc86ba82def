"""Progress shown while a run goes: a ``tqdm.auto`` bar (a terminal bar, or a widget in Jupyter) or plain lines.

``process(..., progress=True)`` and ``process_stream(..., progress=True)`` show
a :class:`ProgressBar`; the command line shows one on a terminal and
:class:`ProgressLines` when its output is not a terminal. Both take the
:class:`~streamkit.Progress` snapshots a run reports after every chunk.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from streamkit.engine.progress import Progress

__all__ = ("ProgressBar", "ProgressLines", "progress_reporter")


def _counts(p: Progress) -> dict[str, str]:
    """What the bar shows beside records and records/s: ok, failed, per end state, bytes in flight."""
    out = {"ok": f"{p.successful:,}", "failed": f"{p.failed:,}"}
    if len(p.end_state_counts) > 1:
        out.update({name: f"{n:,}" for name, n in p.end_state_counts.items()})
    out["in flight"] = f"{p.bytes_in_flight / 1e6:.0f} MB"
    return out


class ProgressBar:
    """A ``tqdm.auto`` bar fed with :class:`~streamkit.Progress` snapshots (call it with each one).

    Parameters
    ----------
    total:
        Records expected, when known (the bar then shows a percentage and time left).
    desc:
        The bar's label.
    file:
        Where a terminal bar is drawn (default: standard error).
    """

    def __init__(self, total: int | None = None, desc: str = "streamkit", file: TextIO | None = None) -> None:
        from tqdm.auto import tqdm  # imported when a bar is asked for: tqdm.auto looks for Jupyter

        self.bar = tqdm(total=total, desc=desc, unit=" rec", unit_scale=True, file=file, dynamic_ncols=True)
        self._last = 0

    def __call__(self, p: Progress) -> None:
        self.bar.update(p.records_processed - self._last)
        self._last = p.records_processed
        self.bar.set_postfix(_counts(p), refresh=False)

    def close(self) -> None:
        """Finish the bar (it stays on screen)."""
        self.bar.close()


class ProgressLines:
    """Plain progress lines, at most one every ``every`` seconds (for logs, pipes and CI).

    Examples
    --------
    >>> import io
    >>> from streamkit.engine.progress import ErrorLog
    >>> out = io.StringIO()
    >>> lines = ProgressLines(out, every=0)
    >>> lines(Progress(1, 5000, 1e6, ErrorLog(), 2_000_000, 0, 0.005, successful=4990, failed=10))
    >>> out.getvalue()
    '5,000 records, 1,000,000 rec/s, ok 4,990, failed 10, in flight 2 MB, 0.0 s\\n'
    """

    def __init__(self, file: TextIO | None = None, every: float = 2.0) -> None:
        self.file = file if file is not None else sys.stderr
        self.every = every
        self._next = 0.0
        self._unsaid: Progress | None = None  # the last snapshot, when it was not printed

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if now < self._next:
            self._unsaid = p
            return
        self._next = now + self.every
        self._unsaid = None
        self._print(p)

    def _print(self, p: Progress) -> None:
        parts = [f"{k} {v}" for k, v in _counts(p).items()]
        rate = f"{p.records_per_second:,.0f} rec/s"
        print(f"{p.records_processed:,} records, {rate}, {', '.join(parts)}, {p.elapsed:.1f} s", file=self.file)

    def close(self) -> None:
        """Print the last snapshot, if it was held back."""
        if self._unsaid is not None:
            self._print(self._unsaid)
            self._unsaid = None


def progress_reporter(progress: Any, total: int | None = None) -> ProgressBar | ProgressLines | None:
    """What ``progress=`` asks for: ``True`` a :class:`ProgressBar`, ``"lines"`` :class:`ProgressLines`,
    a falsy value nothing."""
    if not progress:
        return None
    if progress == "lines":
        return ProgressLines()
    if progress is True:
        return ProgressBar(total)
    msg = f"progress must be True, False or 'lines', got {progress!r}"
    raise ValueError(msg)
