"""Typed errors whose messages are written for the person using the tool."""


class BackgroneError(Exception):
    """Base class: ``str(err)`` is a complete sentence a user understands."""


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


class OptionsError(BackgroneError):
    """An output option (colour, format, margin) is not valid."""


class CatalogueError(BackgroneError):
    """The model catalogue is missing, malformed, or names an unknown engine."""


class ModelFetchError(BackgroneError):
    """Model weights could not be fetched or failed verification."""
