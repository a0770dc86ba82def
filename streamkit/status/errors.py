"""Errors of the status index: each names the offending ids (the first few) and how many there are."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from streamkit.errors import StreamkitError

__all__ = (
    "StatusIndexError", "DuplicateIdError", "UnknownIdError", "StatusMismatchError", "UnknownTagError",
    "preview_ids",
)  # fmt: skip

#: How many offending ids a message lists.
PREVIEW = 5


def preview_ids(ids: Sequence[int] | np.ndarray, n_all: int | None = None) -> str:
    """The first few ids, and how many there are when that is more than shown.

    Examples
    --------
    >>> preview_ids([3, 7])
    '3, 7'
    >>> preview_ids(list(range(10)))
    '0, 1, 2, 3, 4, ... (10 ids)'
    >>> preview_ids([3, 7], n_all=40)
    '3, 7, ... (40 ids)'
    """
    shown = [int(i) for i in ids[:PREVIEW]]
    n = len(ids) if n_all is None else n_all
    text = ", ".join(map(str, shown))
    return f"{text}, ... ({n} ids)" if n > len(shown) else text


class StatusIndexError(StreamkitError, ValueError):
    """A status index refused an operation; nothing was changed.

    Attributes
    ----------
    ids:
        The offending ids (all of them, as int64), when the error is about ids.

    Examples
    --------
    >>> from streamkit.status import StatusIndex
    >>> index = StatusIndex()
    >>> index.add([1, 2, 3])
    >>> try:
    ...     index.add([3, 2, 9])
    ... except StatusIndexError as exc:
    ...     print(exc.ids, isinstance(exc, ValueError))
    [3 2] True
    """

    def __init__(self, message: str, ids: np.ndarray | None = None) -> None:
        super().__init__(message)
        self.ids = np.empty(0, np.int64) if ids is None else ids


class DuplicateIdError(StatusIndexError):
    """Ids added to an index that already holds them (or repeated in one ``add``).

    Examples
    --------
    >>> from streamkit.status import StatusIndex
    >>> index = StatusIndex()
    >>> index.add([1, 2])
    >>> index.add([2, 3])
    Traceback (most recent call last):
    ...
    streamkit.status.errors.DuplicateIdError: ids already in the index: 2; change their status with `transition`
    """


class UnknownIdError(StatusIndexError, KeyError):
    """Ids that are not in the index (never added, or dropped by ``cleanup``).

    Also a :class:`KeyError`, as for a missing key of a mapping.

    Examples
    --------
    >>> from streamkit.status import StatusIndex
    >>> StatusIndex().transition([4], "failed")
    Traceback (most recent call last):
    ...
    streamkit.status.errors.UnknownIdError: ids not in the index: 4
    """

    def __str__(self) -> str:
        # KeyError would show the message quoted, as a key
        return str(self.args[0]) if self.args else ""


class UnknownTagError(StatusIndexError, KeyError):
    """A tag name that no ``tag`` call has created.

    Examples
    --------
    >>> from streamkit.status import StatusIndex
    >>> StatusIndex().tagged("urgent")
    Traceback (most recent call last):
    ...
    streamkit.status.errors.UnknownTagError: unknown tag 'urgent': no tags yet
    """

    __str__ = UnknownIdError.__str__


class StatusMismatchError(StatusIndexError):
    """Ids of a ``transition(..., from_status=s)`` that were not in status ``s``.

    Examples
    --------
    >>> from streamkit.status import StatusIndex
    >>> index = StatusIndex()
    >>> index.add([1, 2], "failed")
    >>> index.transition([1, 2], "pending", from_status="processing")
    Traceback (most recent call last):
    ...
    streamkit.status.errors.StatusMismatchError: ids not in status 'processing': 1 (in 'failed'), 2 (in 'failed')
    """
