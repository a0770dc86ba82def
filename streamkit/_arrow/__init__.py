"""Arrow plumbing shared by every layer: casts, buffer views and gathers, type unification, tables, records.

Nothing here knows about networks, sources or streams; ``fsm``, ``io`` and
``engine`` build on it.
"""

__all__: tuple[str, ...] = ()
