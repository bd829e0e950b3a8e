"""Backgrone's core: background removal as pure numpy/Pillow functions.

The same code runs in CPython (tests, the batch CLI) and in Pyodide (the
browser extension's engine). Nothing here imports onnxruntime or touches a
browser at module level; model inference sits behind :class:`Segmenter`.
"""

from .catalogue import EngineSpec, load_catalogue
from .decode import Decoded, decode, decode_image
from .errors import BackgroneError, DecodeError, UnsupportedFormatError
from .pipeline import Options, Prepared, cut, finish, load, prepare, with_tensor

__version__ = "0.1.0"

__all__ = [
    "BackgroneError",
    "DecodeError",
    "Decoded",
    "EngineSpec",
    "Options",
    "Prepared",
    "UnsupportedFormatError",
    "__version__",
    "cut",
    "decode",
    "decode_image",
    "finish",
    "load",
    "load_catalogue",
    "prepare",
    "with_tensor",
]
