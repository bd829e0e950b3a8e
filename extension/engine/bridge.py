# Converts between JavaScript values and the core's plain Python values.
# The core (backgrone.host) knows nothing about the browser; this file does.
import json

from pyodide.ffi import to_js

from backgrone.host import Host
from js import Object

_host = None


def init(catalogue_json):
    global _host
    _host = Host(catalogue_json)


def decode(data, options):
    """data: Uint8Array; returns {prepared, width, height} or an error dict."""
    return _host.decode(data.to_bytes(), options.to_py())


def decode_pixels(pixels, width, height, options):
    """pixels: RGBA Uint8ClampedArray the browser decoded; like decode()."""
    # One copy into Python's heap, into memory the image keeps (a bytearray is taken, not copied
    # again: at 24 MP, 96 MB less than to_bytes() and a copy of that).
    buf = bytearray(pixels.byteLength)
    pixels.assign_to(buf)
    return _host.decode_pixels(buf, width, height, options.to_py())


def check_size(width, height, options):
    """A size read from a file's header, against the limit: {width, height} or an error dict."""
    return _host.check_size(width, height, options.to_py())


def tensor(prepared, engine):
    """The model input for ``engine``: {tensor (numpy), shape} or an error dict."""
    return _host.tensor(prepared, engine)


def complete(prepared, output, engine, options):
    """output: Float32Array of the raw model output.

    Returns {data: Uint8Array, mime, width, height, timings, check, flag} or an error."""
    # The engine releases its image after this call: the cut-out may be made in its pixels.
    result = _host.complete(prepared, output.to_bytes(), engine, options.to_py(), consume=True)
    if "data" in result:
        result["data"] = to_js(result["data"])
        result["timings"] = to_js(result["timings"], dict_converter=Object.fromEntries)
    return result


# ---- the refine editor's session (backgrone.edit_session) ----------------------------------


def edit_open(prepared, output, engine, options):
    """output: Float32Array, the job's raw model output; returns {session, width, height} or an error."""
    return _host.edit_open(prepared, output.to_bytes(), engine, options.to_py())


def edit_set(session, edits):
    """edits: the log's list (JSON text); returns {length, box?}, {need: [{key, tensor, shape}]} or an error."""
    result = _host.edit_set(session, json.loads(edits))
    if "box" in result:
        result["box"] = to_js(result["box"])
    if "need" in result:
        result["need"] = [{**n, "shape": to_js(n["shape"])} for n in result["need"]]
    return result


def edit_provide(session, key, output):
    """output: Float32Array, the model's raw output for a re-detect's input; returns {} or an error."""
    return _host.edit_provide(session, key, output.to_bytes())


def edit_bytes(session, which, box=None):
    """The raw bytes the editor draws: 'image' RGBA, 'start' / 'alpha' one byte a pixel, 'patch' inside box."""
    if which == "image":
        data = session.guide.tobytes()
    elif which == "start":
        data = session.start.tobytes()
    elif which == "alpha":
        data = session.alpha.tobytes()
    else:
        data = session.patch(tuple(box.to_py()))
    return to_js(data)


def edit_render(session):
    """The refined cut-out: {data: Uint8Array, mime, width, height} or an error."""
    result = _host.edit_render(session)
    if "data" in result:
        result["data"] = to_js(result["data"])
    return result
