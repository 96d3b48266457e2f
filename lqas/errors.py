"""Exception hierarchy: every user-facing problem is an LqasError with a one-line message."""


class LqasError(Exception):
    """Base class; the CLI prints the message on one line and exits with ``exit_code`` (2: the input or
    the settings are wrong)."""

    exit_code = 2


class InputError(LqasError):
    """A data file cannot be read or lacks what the run needs (names the file and the column/row)."""


class ConfigError(LqasError):
    """The project file or a mapping profile is invalid (names the file, the key and the fix)."""


class SettingError(ConfigError):
    """A project setting the data or the definitions contradict (a column, value or dose that does not
    exist). ``key`` names the setting; :meth:`lqas.config.Project.naming_errors` adds the project file."""

    def __init__(self, key: str, message: str):
        super().__init__(f"key '{key}': {message}")
        self.key = key


class DesignError(LqasError):
    """The survey design is structurally wrong (single PSU, PSUs not nested in strata, bad weights)."""


class OutputError(LqasError):
    """Some outputs of a run could not be written (a PDF library that does not load, a workbook that
    fails): the others and the manifest, which records the failures, are written. Exit code 1."""

    exit_code = 1

    def __init__(self, failures: list[dict], out):
        self.failures, self.out = failures, out
        lines = [f"{failure['output']} was not written ({failure['reason']})" for failure in failures]
        lines[-1] += f"; every other output and manifest.json (which lists what failed) are in {out}"
        super().__init__("\n".join(lines))
