"""Build the error for a refused add or transition (the index is unchanged when these run).

Kernels only report the first bad position; these functions look at every id
again (slowly, it is the error path) to say which ids are wrong and why. The
caller passes what the ids' statuses are now (``found``, ``ABSENT`` for an id
not in the index), so nothing here needs the index.
"""

from __future__ import annotations

import numpy as np

from kernels import status as K
from streamkit.status.codes import N_STATUSES, STATUS_NAMES
from streamkit.status.errors import (
    DuplicateIdError,
    StatusIndexError,
    StatusMismatchError,
    UnknownIdError,
    preview_ids,
)

__all__ = ("add_error", "transition_error", "unknown_ids_error", "repeated")


def repeated(ids: np.ndarray) -> np.ndarray:
    """The ids that occur more than once, each once, sorted."""
    values, counts = np.unique(ids, return_counts=True)
    return values[counts > 1]


def unknown_ids_error(unknown: np.ndarray) -> UnknownIdError:
    """The error for ids not in the index (negative ids get a hint)."""
    msg = f"ids not in the index: {preview_ids(unknown)}"
    if np.any(unknown < 0):
        msg += "\n\nids are non-negative integers"
    return UnknownIdError(msg, unknown)


def add_error(ids: np.ndarray, codes: np.ndarray, found: np.ndarray) -> Exception:
    """Why adding ``ids`` (with per-id ``codes``, or one code when empty; ``found`` now) failed."""
    if codes.shape[0]:
        bad = np.flatnonzero(codes >= N_STATUSES)
        if bad.shape[0]:
            msg = (f"`statuses` must be codes 0..{N_STATUSES - 1} ({', '.join(STATUS_NAMES)}), "
                   f"got {int(codes[bad[0]])} at position {int(bad[0])}")  # fmt: skip
            return ValueError(msg)
    present = ids[found != K.ABSENT]
    if present.shape[0]:
        msg = f"ids already in the index: {preview_ids(present)}; change their status with `transition`"
        return DuplicateIdError(msg, present)
    twice = repeated(ids)
    msg = f"ids repeated in the ids to add: {preview_ids(twice)}"
    return DuplicateIdError(msg, twice)


def transition_error(ids: np.ndarray, frm: int, found: np.ndarray) -> StatusIndexError:
    """Why moving ``ids`` (all expected in ``frm`` when ``frm >= 0``; ``found`` now) failed."""
    unknown = found == K.ABSENT
    if unknown.any():
        return unknown_ids_error(ids[unknown])
    wrong = np.flatnonzero(found != frm)
    expected = STATUS_NAMES[frm]
    if wrong.shape[0]:
        shown = ", ".join(f"{int(ids[i])} (in {STATUS_NAMES[found[i]]!r})" for i in wrong[:5])
        more = f", ... ({wrong.shape[0]} ids)" if wrong.shape[0] > 5 else ""
        msg = f"ids not in status {expected!r}: {shown}{more}"
        return StatusMismatchError(msg, ids[wrong])
    twice = repeated(ids)
    msg = f"ids repeated in a transition with `from_status` {expected!r}: {preview_ids(twice)}"
    return StatusMismatchError(msg, twice)
