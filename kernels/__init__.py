"""Pure numba kernels over numpy arrays. Never imports streamkit."""

from kernels.partition import partition_by_code as partition_by_code

__all__ = ("partition_by_code",)
