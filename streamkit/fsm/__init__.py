"""FSM networks: the per-record interpreter, the compiler and the batch executor."""
