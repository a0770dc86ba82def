"""FSM networks: the per-record interpreter, the compiler and the batch executor."""

__all__: tuple[str, ...] = ()
