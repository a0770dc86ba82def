"""Inline expressions: parse ``lambda state: ...`` code to a typed IR and generate numba kernel source.

Modules, lowest first (each imports only modules above it in this list, and
nothing of :mod:`streamkit.fsm`):

* :mod:`~streamkit.expr.ir` -- the IR: frozen dataclasses.
* :mod:`~streamkit.expr.parse` -- ``ast`` -> IR; rejects unsupported constructs by name and line.
* :mod:`~streamkit.expr.ints` -- the int64 rule, and inline code compiled as Python under it.
* :mod:`~streamkit.expr.values` -- values in generated code, error sites, string tables.
* :mod:`~streamkit.expr.layout` -- the contract of a generated kernel: arguments, exits, field sources.
* :mod:`~streamkit.expr.codegen` -- :class:`~streamkit.expr.codegen.CodeGen`, which writes one kernel's row code.
* ``ops_arith``, ``ops_compare``, ``ops_control``, ``ops_calls`` -- one class per operator family.
* :mod:`~streamkit.expr.ops` -- binds the families to a generator: the IR-node dispatch table.
* :mod:`~streamkit.expr.kernel` -- one fused kernel for a state and the states reached only through it.
"""

__all__: tuple[str, ...] = ()
