"""The project's own error types: each message says what was wrong, where, and what to do."""


class CapstoneError(Exception):
    """Base class of every error the project raises on purpose."""


class ParamsError(CapstoneError, ValueError):
    """A params file is missing, malformed, or holds an invalid value."""


class DataError(CapstoneError):
    """A dataset could not be fetched, verified, or read."""


class StageError(CapstoneError):
    """A pipeline stage failed; the message names the notebook, the cell and the error."""


class ModelError(CapstoneError):
    """A model file is missing, unreadable, or not a model of this project's contract."""
