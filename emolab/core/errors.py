"""Errors a person can act on. Each message says what is wrong and what to do."""


class EmolabError(Exception):
    """Base class of emolab's own errors (the CLI prints these without a traceback)."""


class ConfigError(EmolabError, ValueError):
    """A profile, device, chapter or configuration value is not valid."""


class DivergenceError(EmolabError, FloatingPointError):
    """Training produced a non-finite loss; the last good checkpoint is kept."""


class DatasetError(EmolabError):
    """A dataset is missing, laid out differently than expected, or unreadable."""


class DatasetNotFoundError(DatasetError, FileNotFoundError):
    """A dataset's root folder or files are absent; the message names the layout and the source."""
