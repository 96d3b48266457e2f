"""Exception hierarchy: every user-facing problem is an LqasError with a one-line message."""


class LqasError(Exception):
    """Base class; the CLI prints the message on one line and exits with code 2."""


class InputError(LqasError):
    """A data file cannot be read or lacks what the run needs (names the file and the column/row)."""


class ConfigError(LqasError):
    """The project file or a mapping profile is invalid (names the file, the key and the fix)."""


class DesignError(LqasError):
    """The survey design is structurally wrong (single PSU, PSUs not nested in strata, bad weights)."""
