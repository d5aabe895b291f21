"""Errors a person can act on. Each message says what is wrong and what to do."""


class EmolabError(Exception):
    """Base class of emolab's own errors (the CLI prints these without a traceback)."""


class ConfigError(EmolabError, ValueError):
    """A profile, device, chapter or configuration value is not valid."""


class DivergenceError(EmolabError, FloatingPointError):
    """Training produced a non-finite loss; the last good checkpoint is kept."""
