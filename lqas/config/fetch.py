"""The ``[fetch]`` table of ``survey.toml``: which server and form :func:`lqas.fetch.fetch` downloads.

Example (KoboToolbox)::

    [fetch]
    server = "https://kf.kobotoolbox.org"
    platform = "kobo"
    asset = "aBcDeFgHiJkLmNoPqRsTuV"      # the id in the form's address, .../#/forms/<asset>/...

Example (ODK Central)::

    [fetch]
    server = "https://central.example.org"
    platform = "odk"
    project = 3
    form = "lqas_child_survey"             # the Form ID (xmlFormId), not its title

The credential is never in this file: ``token_env`` names the environment variable that holds it.
"""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from lqas.config._validation import Section, cross_field_problems

DEFAULT_TOKEN_ENV = {"kobo": "KOBO_TOKEN", "odk": "ODK_CENTRAL_TOKEN"}
# plain http only where no one else can read the traffic: the token travels in every request
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
# <stem>.json goes beside the CSV: these stems would overwrite form.json or fetch.json
RESERVED_STEMS = {"form", "fetch"}
_NEEDS = {
    "asset": "platform = 'kobo' needs asset = '<asset uid>' (the id in the form's address, .../#/forms/<asset>/...)",
    "project": "platform = 'odk' needs project = <number> (as in .../#/projects/<number>)",
    "form": "platform = 'odk' needs form = '<Form ID>' (the xmlFormId, not the title)",
}


def _server_address(value: str) -> str:
    """An https address (http only on this machine), without credentials, query or fragment; no trailing /."""
    parts = urllib.parse.urlsplit(value.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"expected the server's address, e.g. https://kf.kobotoolbox.org; got {value!r}")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise ValueError("must start with https:// (the token would travel unencrypted over http)")
    if parts.username or parts.password:
        # an address is written to fetch.json and error messages: a password in it would be too
        raise ValueError("must not hold a user name or password; put the credential in the environment "
                         "variable named by token_env")
    if parts.query or parts.fragment:
        raise ValueError(f"the server's address only, e.g. {parts.scheme}://{parts.netloc}; "
                         "the form is named by asset (Kobo) or project and form (ODK)")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def _asset_uid(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9]+", value):
        raise ValueError(f"expected a Kobo asset uid (letters and digits, as in .../#/forms/<asset>/...); "
                         f"got {value!r}")
    return value


def _form_id(value: str) -> str:
    if not value or "/" in value or value.strip() != value:
        raise ValueError(f"expected the Form ID (xmlFormId) as Central shows it, e.g. 'lqas_child_survey'; "
                         f"got {value!r}")
    return value


def _environment_name(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        # the value is not shown: it may be the token itself, put here by mistake
        raise ValueError("expected the name of an environment variable, e.g. 'KOBO_TOKEN' (never the token "
                         "itself); got a value that is not a variable name")
    return value


def _file_name(value: str) -> str:
    if Path(value).name != value or not value.lower().endswith(".csv") or value.startswith("."):
        raise ValueError(f"expected a file name ending in .csv, without a folder (the folder is 'folder'); "
                         f"got {value!r}")
    if Path(value).stem.lower() in RESERVED_STEMS:
        # <stem>.json is written beside the CSV, and would be the form (form.json) or the state (fetch.json)
        raise ValueError(f"'{value}' would overwrite the form or fetch.json written beside it; choose another name, "
                         "e.g. 'submissions.csv'")
    return value


ServerUrl = Annotated[str, AfterValidator(_server_address)]
AssetUid = Annotated[str, AfterValidator(_asset_uid)]
FormId = Annotated[str, AfterValidator(_form_id)]
EnvironmentName = Annotated[str, AfterValidator(_environment_name)]
CsvName = Annotated[str, AfterValidator(_file_name)]


class FetchSettings(Section):
    """``[fetch]``: the server and form whose submissions ``lqas fetch`` downloads into ``folder``."""

    server: ServerUrl
    platform: Literal["kobo", "odk"]
    # KoboToolbox: the asset uid of the form
    asset: AssetUid | None = None
    # ODK Central: the project's number and the form's xmlFormId
    project: int | None = Field(None, ge=1)
    form: FormId | None = None
    # the environment variable holding the credential; by default KOBO_TOKEN (kobo) or
    # ODK_CENTRAL_TOKEN (odk, else ODK_CENTRAL_EMAIL and ODK_CENTRAL_PASSWORD open a session)
    token_env: EnvironmentName | None = None
    # where the download goes, relative to the project's folder
    folder: Path = Path("data")
    # the main table; repeats go beside it as <stem>-<repeat>.csv
    file: CsvName = "submissions.csv"

    @model_validator(mode="before")
    @classmethod
    def _default_token_env(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and raw.get("token_env") is None and raw.get("platform") in DEFAULT_TOKEN_ENV:
            return {**raw, "token_env": DEFAULT_TOKEN_ENV[raw["platform"]]}
        return raw

    @model_validator(mode="after")
    def _form_named_for_platform(self) -> FetchSettings:
        problems = []
        if self.platform == "kobo":
            if self.asset is None:
                problems.append(("asset", _NEEDS["asset"]))
            problems += [(key, "is for platform = 'odk'; a Kobo form is named by asset alone")
                         for key in ("project", "form") if getattr(self, key) is not None]
        else:
            problems += [(key, _NEEDS[key]) for key in ("project", "form") if getattr(self, key) is None]
            if self.asset is not None:
                problems.append(("asset", "is for platform = 'kobo'; an ODK form is named by project and form"))
        if problems:
            raise cross_field_problems(problems)
        return self

    @property
    def form_name(self) -> str:
        """The form as a reader names it: the Kobo asset, or ODK's ``project/form``."""
        return self.asset if self.platform == "kobo" else f"{self.project}/{self.form}"
