"""Backgrone's core: background removal as pure numpy/Pillow functions.

The same code runs in CPython (tests, the batch CLI) and in Pyodide (the
browser extension's engine). Nothing here imports onnxruntime or touches a
browser at module level; model inference sits behind :class:`Segmenter`.
"""

from .catalogue import EngineSpec, load_catalogue
from .errors import BackgroneError, DecodeError
from .pipeline import Options, Prepared, cut, finish, prepare

__version__ = "0.1.0"

__all__ = [
    "BackgroneError",
    "DecodeError",
    "EngineSpec",
    "Options",
    "Prepared",
    "cut",
    "finish",
    "load_catalogue",
    "prepare",
    "__version__",
]
