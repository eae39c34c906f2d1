"""Runtime side of actinr: the .engine bundle, the sampling grid, the patch-MLP math and the decoders.

``actinr.engines.open(path)`` returns a :class:`~actinr.engines.decoder.Decoder`.
The decoder (and with it torch) is imported on first use, so ``actinr --help``
and ``actinr info`` stay quick.
"""

from .errors import ActinrError

__all__ = ["ActinrError", "Decoder", "DecoderInfo", "open"]


def __getattr__(name: str):
    if name in ("Decoder", "DecoderInfo", "open"):
        from . import decoder

        return getattr(decoder, name)
    raise AttributeError(f"module 'actinr.engines' has no attribute {name!r}")
