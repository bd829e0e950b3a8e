# Converts between JavaScript values and the core's plain Python values.
# The core (backgrone.host) knows nothing about the browser; this file does.
from js import Object
from pyodide.ffi import to_js

from backgrone.host import Host

_host = None


def init(catalogue_json):
    global _host
    _host = Host(catalogue_json)


def decode(data, options):
    """data: Uint8Array; returns {prepared, width, height} or an error dict."""
    return _host.decode(data.to_bytes(), options.to_py())


def decode_pixels(pixels, width, height, options):
    """pixels: RGBA Uint8ClampedArray the browser decoded; like decode()."""
    return _host.decode_pixels(pixels.to_bytes(), width, height, options.to_py())


def check_size(width, height, options):
    """A size read from a file's header, against the limit: {width, height} or an error dict."""
    return _host.check_size(width, height, options.to_py())


def tensor(prepared, engine):
    """The model input for ``engine``: {tensor (numpy), shape} or an error dict."""
    return _host.tensor(prepared, engine)


def complete(prepared, output, engine, options):
    """output: Float32Array of the raw model output; returns {data: Uint8Array, mime, timings} or an error."""
    result = _host.complete(prepared, output.to_bytes(), engine, options.to_py())
    if "data" in result:
        result["data"] = to_js(result["data"])
        result["timings"] = to_js(result["timings"], dict_converter=Object.fromEntries)
    return result
