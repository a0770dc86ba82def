"""Pure numba kernels over numpy arrays, one module per concern. Never imports streamkit.

Import the modules themselves (``from kernels import status``): nothing is re-exported here,
so importing one kernel module does not load (or compile) the others.
"""

__all__: tuple[str, ...] = ()
