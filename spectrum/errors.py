"""User-facing errors. Each carries a one-line message; the CLI prints it and exits with code 2."""


class SpectrumError(Exception):
    """Base of every error caused by what the user asked for (flags, files, URLs, data)."""


class SpecError(SpectrumError, ValueError):
    """A specification (flag, study-file key, option value) is malformed or out of range."""


class SegmentsError(SpecError):
    """A segment count g does not divide the channels of the layer it is applied to."""


class DataError(SpectrumError):
    """A dataset is missing, corrupt or truncated; the message names the file and the fix."""


class StorageError(SpectrumError):
    """A study storage URL is malformed or unreachable; the message shows the URL masked."""
