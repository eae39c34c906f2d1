"""Runtime side of actinr: the sampling grid, the patch-MLP decoder math and (later) the bundle and backends."""

from .errors import ActinrError

__all__ = ["ActinrError"]
