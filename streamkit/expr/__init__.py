"""Inline expressions: parse to a typed IR and generate numba kernel source."""
