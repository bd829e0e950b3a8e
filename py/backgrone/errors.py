"""Typed errors whose messages are written for the person using the tool."""


class BackgroneError(Exception):
    """Base class: ``str(err)`` is a complete sentence a user understands.

    ``code`` (when set) names the message for hosts that say it in the user's own
    language (the extension's ``_locales``, key ``core_<code>``), and ``params``
    are the values it needs, in order.
    """

    def __init__(self, message: str, code: str = "", params: tuple = ()):
        super().__init__(message)
        self.code = code
        self.params = tuple(str(p) for p in params)


class DecodeError(BackgroneError):
    """The input bytes cannot become an image we can cut out."""


class EmptyFileError(DecodeError):
    pass


class NotAnImageError(DecodeError):
    pass


class TruncatedImageError(DecodeError):
    pass


class TooManyPixelsError(DecodeError):
    pass


class UnsupportedFormatError(DecodeError):
    """An image in a format this decoder does not read (AVIF, HEIC, JPEG XL, SVG).

    ``format`` names it (``'avif'``, ``'heic'``, ``'jxl'``, ``'svg'``), so a host
    with a decoder of its own (a browser) can decode the file itself instead.
    """

    def __init__(self, message: str, format: str = "", code: str = "", params: tuple = ()):
        super().__init__(message, code, params)
        self.format = format


class OptionsError(BackgroneError):
    """An output option (colour, format, margin) is not valid."""


class EncodeError(BackgroneError):
    """The result cannot be written in the requested format (e.g. too large for WebP)."""


class CatalogueError(BackgroneError):
    """The model catalogue is missing, malformed, or names an unknown engine."""


class ModelFetchError(BackgroneError):
    """Model weights could not be fetched or failed verification."""


class UsageError(BackgroneError):
    """The command line asks for something that cannot be done (e.g. ``--out`` names a file)."""
