"""``lqas fetch``: download the current submissions of one form from KoboToolbox or ODK Central into
the project's data folder, as the CSV export a person would have clicked for ("XML values and
headers", group separator ``/``), with the form definition beside it.

What a download writes into ``[fetch] folder`` (``file`` = ``submissions.csv`` by default):

* ``submissions.csv``: one row per submission, columns named by the XML path of each field
  (``hh/catchment``), select_multiple answers as space-separated names, metadata last (``_id``,
  ``_uuid``, ``_submission_time``, ...) and ``_index`` (the 1-based row number). Rows are ordered by
  ``_submission_time`` then ``_uuid``. Every cell is the text the server sent, numbers included.
* ``submissions-<repeat>.csv`` for each repeat group: its fields (full paths, as given), ``_index``
  (1-based in that file), ``_parent_table_name``, ``_parent_index`` (the parent row's ``_index``) and
  ``_submission__uuid``. A repeat inside a repeat points at the row of the enclosing repeat's file.
* ``submissions.json``: the same submissions as a JSON list (values as text, repeats as lists): what a
  later fetch merges new submissions into.
* the form: ``form.json`` and ``form.xls`` (Kobo), ``form.xml`` and ``form.xlsx`` (Central); the
  spreadsheet is skipped when the server has none.
* ``fetch.json``: platform, server, form, submission count, newest ``_submission_time``, the SHA-256
  of every file above and when the download ended (UTC).

Attachments are never downloaded (``_attachments`` and ``*_URL`` fields are left out).

ODK Central's OData rows are mapped to the same shape: groups flattened to ``/`` paths,
``__id`` -> ``_uuid``, ``__system/submissionDate`` -> ``_submission_time``, ``__system/reviewState``
-> ``_validation_status``, the other ``__system`` fields kept as ``__system/<field>`` columns,
geopoints/traces/shapes written as ODK's ``lat lon alt acc`` text, and repeats (OData navigation
links) read from their own tables (``Submissions.<repeat>``) or, after a resumed fetch, from each
new submission's links. pyodk is not used: its Client reads the credentials from a TOML file and
caches the session token in another, while here the credential must stay in the environment and
never touch the disk, so the few endpoints are called with httpx directly.

The credential comes from the environment only (``[fetch] token_env``; for Central also
``ODK_CENTRAL_EMAIL`` + ``ODK_CENTRAL_PASSWORD``, which open a session that is closed at the end). It
is never written, logged, returned or put in a message.

Everything is written into a temporary folder beside the data folder and moved into place file by
file (``os.replace``, ``fetch.json`` last) only once the whole download succeeded: any failure
leaves the previous download as it was and raises a one-line :class:`~lqas.errors.InputError`.

A fetch after a previous one asks only for newer submissions (Kobo: ``_submission_time`` after the
newest one held; Central: submitted or updated after it) and merges them by ``_uuid``, a newer copy
replacing the older (Kobo's ``meta/deprecatedID`` names the copy an edit replaces). If the server's
count of submissions then differs from the merged count (a submission was deleted), everything is
downloaded again. Kobo's data API carries no modification time, so an edit or validation made in Kobo
to a submission already downloaded is only seen by a full download (``full=True``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from lqas.config.fetch import FetchSettings
from lqas.errors import InputError

__all__ = ["STATE_FILE", "FetchResult", "fetch"]

STATE_FILE = "fetch.json"
ODK_EMAIL_ENV = "ODK_CENTRAL_EMAIL"
ODK_PASSWORD_ENV = "ODK_CENTRAL_PASSWORD"
# status codes worth asking again: the server is busy or failing for a moment
RETRYABLE = {429, 500, 502, 503, 504}
# the columns every repeat file gets, after the repeat's own fields
REPEAT_LINK_COLUMNS = ("_index", "_parent_table_name", "_parent_index", "_submission__uuid")
_NAVIGATION = "@odata.navigationLink"
# Central's __system fields with a Kobo name; the others stay under __system/
_CENTRAL_SYSTEM = {"submissionDate": "_submission_time", "reviewState": "_validation_status"}


@dataclass(frozen=True)
class FetchResult:
    """What one fetch wrote.

    Attributes
    ----------
    files : dict of str to Path
        Every file of the download by name (the CSVs, the JSON, the form files, ``fetch.json``).
    submissions : int
        Submissions in the main CSV.
    new : int
        Submissions whose ``_uuid`` the previous download did not hold (all of them on a first fetch).
    platform : str
        ``"kobo"`` or ``"odk"``.
    """

    files: dict[str, Path]
    submissions: int
    new: int
    platform: str


def fetch(settings: FetchSettings, project_dir: Path, *, environ: Mapping[str, str] | None = None,
          timeout: float = 30.0, full: bool = False, page_size: int = 1000, retries: int = 3,
          backoff: float = 1.0) -> FetchResult:
    """Download the submissions and definition of the form ``settings`` names into the data folder.

    Parameters
    ----------
    settings : FetchSettings
        The project's ``[fetch]`` table.
    project_dir : Path
        The project's folder; ``settings.folder`` is relative to it.
    environ : mapping, optional
        Where the credential is read (default ``os.environ``).
    timeout : float
        Seconds to wait for each answer of the server.
    full : bool
        Download every submission even when a previous download could be brought up to date.
    page_size : int
        Submissions asked for per request.
    retries : int
        Further attempts after a timeout, a lost connection or a 429/5xx answer.
    backoff : float
        Seconds before the first retry, doubled before each next one.

    Returns
    -------
    FetchResult

    Raises
    ------
    InputError
        One line naming the server, what failed and what to do: credential missing or refused, form
        not found, server failing or not answering, an answer that is not the expected JSON. The files
        of the previous download are then unchanged.
    """
    environ = os.environ if environ is None else environ
    folder = Path(project_dir) / settings.folder
    credential = _credential(settings, environ)
    previous = _previous_download(folder, settings)
    pages = _Pages(settings, timeout=timeout, retries=retries, backoff=backoff)
    # a previous download holding no submission has nothing to be newer than
    resumable = previous if previous and previous.watermark["submission_time"] and not full else None
    with pages.session(credential):
        platform = {"kobo": _KoboDownload, "odk": _CentralDownload}[settings.platform](pages, page_size)
        form_files = platform.form_files()
        fresh = platform.submissions(since=resumable.watermark if resumable else None)
        records = _merge_submissions(resumable.records if resumable else [], fresh)
        if resumable and platform.total() != len(records):
            # the server no longer holds a submission the merge kept (deleted): only a full download is exact
            records = _merge_submissions([], platform.submissions(since=None))
    stem = Path(settings.file).stem
    files = {**{name: _csv_bytes(table) for name, table in _tabulate(records, stem).items()},
             f"{stem}.json": _json_bytes(records), **form_files}
    state = _state(settings, records, files)
    written = _replace_files(folder, files, state, stale=_recorded_files(folder))
    held = set(previous.uuids) if previous else set()
    return FetchResult(files=written, submissions=len(records),
                       new=sum(record["_uuid"] not in held for record in records), platform=settings.platform)


# --------------------------------------------------------------------------- credential


@dataclass(frozen=True)
class _Credential:
    """A token for the Authorization header, or a Central login that opens a session."""

    scheme: str  # "Token" (Kobo) or "Bearer" (Central)
    token: str | None = None
    login: tuple[str, str] | None = None
    # the environment variables it came from, named when the server refuses it
    source: str = ""

    def __repr__(self) -> str:  # a credential printed by accident shows nothing of itself
        return f"_Credential(scheme={self.scheme!r}, source={self.source!r})"


def _credential(settings: FetchSettings, environ: Mapping[str, str]) -> _Credential:
    name = settings.token_env
    token = environ.get(name, "").strip()
    if settings.platform == "kobo":
        if not token:
            raise InputError(f"fetch: environment variable {name} is not set: set it to the API token of an "
                             f"account that can view asset '{settings.asset}' on {settings.server} "
                             "(Account settings > Security)")
        return _Credential("Token", token=token, source=name)
    if token:
        return _Credential("Bearer", token=token, source=name)
    email, password = environ.get(ODK_EMAIL_ENV, "").strip(), environ.get(ODK_PASSWORD_ENV, "")
    if email and password:
        return _Credential("Bearer", login=(email, password), source=f"{ODK_EMAIL_ENV} and {ODK_PASSWORD_ENV}")
    raise InputError(f"fetch: environment variable {name} is not set: set it to a Central session or app-user "
                     f"token for {settings.server}, or set {ODK_EMAIL_ENV} and {ODK_PASSWORD_ENV} to a Web "
                     "User's login")


# --------------------------------------------------------------------------- HTTP with one-line errors


class _Pages:
    """Requests to the one server of ``settings``: retried when the server is busy, every failure
    turned into a one-line ``InputError`` that names the server and says what to do."""

    def __init__(self, settings: FetchSettings, *, timeout: float, retries: int, backoff: float,
                 sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self.server = settings.server
        self.timeout = timeout
        self.attempts = 1 + max(0, retries)
        self.backoff = backoff
        self.sleep = sleep
        self.client: httpx.Client | None = None
        self.credential: _Credential | None = None
        self._secrets: tuple[str, ...] = ()

    @contextmanager
    def session(self, credential: _Credential) -> Iterator[None]:
        self.credential = credential
        self._secrets = tuple(s for s in (credential.token, *(credential.login or ())) if s)
        # redirects are followed: httpx drops the Authorization header on a redirect to another origin
        with httpx.Client(timeout=self.timeout, follow_redirects=True) as client:
            self.client = client
            token = credential.token
            if credential.login:
                token = self._open_session(*credential.login)
            client.headers["Authorization"] = f"{credential.scheme} {token}"
            self._secrets += (token,)
            try:
                yield
            finally:
                if credential.login:
                    self._close_session()

    def _open_session(self, email: str, password: str) -> str:
        answer = self.json("POST", f"{self.server}/v1/sessions", "a session (login)",
                           body={"email": email, "password": password})
        token = answer.get("token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise self._malformed("a session (login)")
        return token

    def _close_session(self) -> None:
        # "current", not the token: httpx logs every request's address. A session left open expires by
        # itself, so logging out is a courtesy, never a failure
        try:
            self.client.delete(f"{self.server}/v1/sessions/current")
        except httpx.HTTPError:
            pass

    # -- requests

    def json(self, method: str, url: str, what: str, *, params: Mapping[str, str] | None = None,
             body: Any = None) -> Any:
        """The JSON answer of one request; numbers are kept as the text the server sent."""
        response = self.request(method, url, what, params=params, body=body)
        return self.decode(response, what)

    def decode(self, response: httpx.Response, what: str) -> Any:
        try:
            # as text, so that an id or a decimal answer is written as sent, never through a float
            return json.loads(response.content, parse_int=str, parse_float=str)
        except (ValueError, UnicodeDecodeError):
            raise self._malformed(what) from None

    def request(self, method: str, url: str, what: str, *, params: Mapping[str, str] | None = None,
                body: Any = None, optional: bool = False) -> httpx.Response | None:
        """The answer to one request, retried when it is worth it; ``None`` for a 404 when ``optional``."""
        self._check_origin(url, what)
        failure = ""
        for attempt in range(self.attempts):
            if attempt:
                self.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self.client.request(method, url, params=params, json=body)
            except httpx.TimeoutException:
                failure = f"did not answer within {self.timeout:g} s"
                continue
            except httpx.TransportError as exc:
                failure = f"could not be reached ({self._scrub(str(exc)) or type(exc).__name__})"
                continue
            if response.status_code in RETRYABLE:
                failure = f"answered {response.status_code} ({response.reason_phrase or 'server error'})"
                continue
            if response.status_code == 404 and optional:
                return None
            if response.is_success:
                return response
            raise self._refused(response, what)
        raise self._fail(f"{failure} to {self.attempts} attempt{'s' if self.attempts > 1 else ''} for {what}",
                         "check the connection and try again later")

    # -- errors

    def _fail(self, what_happened: str, what_to_do: str) -> InputError:
        message = (f"fetch: {self.server} {what_happened}: {what_to_do}; nothing in "
                   f"{self.settings.folder.as_posix()}/ was changed")
        return InputError(" ".join(self._scrub(message).split()))

    def _malformed(self, what: str) -> InputError:
        example = "https://kf.kobotoolbox.org" if self.settings.platform == "kobo" else "https://central.example.org"
        return self._fail(f"sent something other than the expected JSON for {what}",
                          f"check that [fetch] server is the {_PLATFORM_NAME[self.settings.platform]} address "
                          f"(e.g. {example}), or try again later")

    def _refused(self, response: httpx.Response, what: str) -> InputError:
        status = response.status_code
        kobo = self.settings.platform == "kobo"
        source = self.credential.source if self.credential else self.settings.token_env
        if status == 401:
            fix = (f"set {source} to a valid API token (Account settings > Security)" if kobo else
                   f"set {self.settings.token_env} to a valid session or app-user token, or {ODK_EMAIL_ENV} "
                   f"and {ODK_PASSWORD_ENV} to a Web User's login")
            return self._fail(f"answered 401 ({'token' if kobo else 'credential'} refused) for {what}", fix)
        if status == 403:
            fix = ("share the project with the token's account (View submissions), or use the owner's token" if kobo
                   else f"give the account a role on project {self.settings.project} that can read submissions "
                        "(Project Viewer or Manager)")
            return self._fail(f"answered 403 (no permission) for {what}", fix)
        if status == 404:
            fix = ("check [fetch] asset: the id in the form's address, .../#/forms/<asset>/..." if kobo else
                   "check [fetch] project (the number in .../#/projects/<number>) and form (the Form ID, not "
                   "the title), and that server is Central's address")
            return self._fail(f"answered 404 (not found) for {what}", fix)
        detail = " ".join(response.text[:160].split())
        return self._fail(f"answered {status} for {what}{f' ({detail})' if detail else ''}",
                          "check the [fetch] settings in survey.toml")

    def _check_origin(self, url: str, what: str) -> None:
        # the token goes with every request: a link to another server would hand it over
        if _origin(url) != _origin(self.server):
            shown = _origin(url)
            raise self._fail(f"sent a link to another server ({shown[0]}://{shown[1]}) for {what}; it was not "
                             "followed so that the token is not sent there",
                             "check that [fetch] server is the address the platform itself uses")

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


_PLATFORM_NAME = {"kobo": "KoboToolbox", "odk": "ODK Central"}


def _origin(url: str) -> tuple[str, str]:
    """Scheme and host:port, the default port made explicit so that two spellings compare equal."""
    parts = urllib.parse.urlsplit(url)
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    return parts.scheme.lower(), f"{(parts.hostname or '').lower()}:{port}"


# --------------------------------------------------------------------------- KoboToolbox API v2


class _KoboDownload:
    """``/api/v2/assets/<asset>/``: the asset (form.json), its XLSForm (form.xls) and the data pages."""

    def __init__(self, pages: _Pages, page_size: int):
        self.pages = pages
        self.page_size = page_size
        asset = pages.settings.asset
        self.asset_url = f"{pages.server}/api/v2/assets/{asset}"
        self.what = f"asset '{asset}'"

    def form_files(self) -> dict[str, bytes]:
        response = self.pages.request("GET", f"{self.asset_url}/", f"the form of {self.what}",
                                      params={"format": "json"})
        if not isinstance(self.pages.decode(response, f"the form of {self.what}"), dict):
            raise self.pages._malformed(f"the form of {self.what}")
        files = {"form.json": response.content}
        xls = self.pages.request("GET", f"{self.asset_url}.xls", f"the XLSForm of {self.what}", optional=True)
        if xls is not None:
            files["form.xls"] = xls.content
        return files

    def submissions(self, since: Mapping[str, str] | None) -> list[dict]:
        params = {"format": "json", "limit": str(self.page_size), "start": "0"}
        if since and since.get("submission_time"):
            params["query"] = json.dumps({"_submission_time": {"$gt": since["submission_time"]}},
                                         separators=(",", ":"))
        records: list[dict] = []
        url: str | None = f"{self.asset_url}/data/"
        what = f"the submissions of {self.what}"
        while url:
            page = self.pages.json("GET", url, what, params=params)
            if not isinstance(page, dict) or not isinstance(page.get("results"), list):
                raise self.pages._malformed(what)
            records += [_kobo_record(raw, self.pages, what) for raw in page["results"]]
            if any(not record.get("_uuid") for record in records):
                raise self.pages._malformed(what)  # the merge and the repeat files key on it
            following = page.get("next")
            if following is not None and not isinstance(following, str):
                raise self.pages._malformed(what)
            # `next` carries every parameter of the page after
            url, params = (urllib.parse.urljoin(url, following), None) if following else (None, None)
        return records

    def total(self) -> int:
        what = f"the count of submissions of {self.what}"
        page = self.pages.json("GET", f"{self.asset_url}/data/", what, params={"format": "json", "limit": "1"})
        return _count(page.get("count") if isinstance(page, dict) else None, self.pages, what)


def _kobo_record(raw: Any, pages: _Pages, what: str) -> dict:
    """One submission of Kobo's JSON as a flat record: values as text, repeats as lists of records.

    Attachments (``_attachments``, ``*_URL``) are left out; ``_validation_status`` becomes its uid
    (``validation_status_approved``...); other metadata holding a list or table becomes its text
    (a list of plain values joined by spaces, anything else as compact JSON).
    """
    if not isinstance(raw, dict):
        raise pages._malformed(what)
    record: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "_attachments" or key.endswith("_URL"):
            continue
        if key == "_validation_status":
            record[key] = _text(value.get("uid")) if isinstance(value, dict) else _text(value)
        elif isinstance(value, list) and not _is_metadata(key) and all(isinstance(v, dict) for v in value):
            record[key] = [_kobo_record(item, pages, what) for item in value]
        else:
            record[key] = _text(value)
    return record


# --------------------------------------------------------------------------- ODK Central


class _CentralDownload:
    """``/v1/projects/<project>/forms/<form>``: the XForm, its XLSForm and the OData submissions."""

    def __init__(self, pages: _Pages, page_size: int):
        self.pages = pages
        self.page_size = page_size
        settings = pages.settings
        self.form_url = (f"{pages.server}/v1/projects/{settings.project}/forms/"
                         f"{urllib.parse.quote(settings.form, safe='')}")
        self.service = f"{self.form_url}.svc"
        self.what = f"form '{settings.form}' of project {settings.project}"

    def form_files(self) -> dict[str, bytes]:
        xml = self.pages.request("GET", f"{self.form_url}.xml", f"the XForm of {self.what}")
        files = {"form.xml": xml.content}
        xlsx = self.pages.request("GET", f"{self.form_url}.xlsx", f"the XLSForm of {self.what}", optional=True)
        if xlsx is not None:
            files["form.xlsx"] = xlsx.content
        return files

    def submissions(self, since: Mapping[str, str] | None) -> list[dict]:
        params = {}
        if since:
            # an edit or a review keeps submissionDate and moves updatedAt: anything changed after the last
            # fetch was changed after the newest submission or update that fetch saw
            newest = since["submission_time"]
            changed = max(newest, since.get("updated_at") or "")
            params["$filter"] = f"__system/submissionDate gt {newest} or __system/updatedAt gt {changed}"
        rows = self._rows(f"{self.service}/Submissions", f"the submissions of {self.what}", params)
        nodes = [_central_node(row, prefix="", top=True) for row in rows]
        if any(not node.record.get("_uuid") for node in nodes):
            raise self.pages._malformed(f"the submissions of {self.what}")
        # few new submissions after a resume: their own links; a full download: one table per repeat
        self._fill_repeats(nodes, by_table=not since)
        return [node.record for node in nodes]

    def total(self) -> int:
        what = f"the count of submissions of {self.what}"
        page = self.pages.json("GET", f"{self.service}/Submissions", what, params={"$top": "0", "$count": "true"})
        return _count(page.get("@odata.count") if isinstance(page, dict) else None, self.pages, what)

    def _rows(self, url: str, what: str, params: Mapping[str, str]) -> list[dict]:
        """Every row of an OData collection, page by page (``@odata.nextLink``, else ``$skip``)."""
        query = {**params, "$top": str(self.page_size), "$skip": "0", "$count": "true"}
        rows: list[dict] = []
        current: str | None = url
        while current:
            page = self.pages.json("GET", current, what, params=query)
            if not isinstance(page, dict) or not isinstance(page.get("value"), list) \
                    or not all(isinstance(row, dict) for row in page["value"]):
                raise self.pages._malformed(what)
            rows += page["value"]
            following = page.get("@odata.nextLink")
            count = page.get("@odata.count")
            if isinstance(following, str) and following:
                current, query = urllib.parse.urljoin(current, following), None
            elif page["value"] and count is not None and query is not None \
                    and len(rows) < _count(count, self.pages, what):
                query = {**query, "$skip": str(len(rows))}
            else:
                current = None
        return rows

    def _fill_repeats(self, nodes: list[_CentralNode], *, by_table: bool) -> None:
        paths = list(dict.fromkeys(path for node in nodes for path in node.links))
        for path in paths:
            what = f"repeat '{path}' of {self.what}"
            table: dict[str, list[dict]] = {}
            if by_table:
                name = "Submissions." + ".".join(path.split("/"))
                for row in self._rows(f"{self.service}/{urllib.parse.quote(name, safe='.')}", what, {}):
                    table.setdefault(_central_parent_id(row, self.pages, what), []).append(row)
            children: list[_CentralNode] = []
            for node in nodes:
                if path not in node.links:
                    continue
                if by_table:
                    rows = table.get(node.id, [])
                else:
                    link = urllib.parse.urljoin(self.service + "/", node.links[path])
                    rows = self._rows(link, what, {})
                own = [_central_node(row, prefix=path + "/") for row in rows]
                node.record[path] = [child.record for child in own]
                children += own
            if children:
                self._fill_repeats(children, by_table=by_table)


@dataclass
class _CentralNode:
    """A submission or repeat row of Central mapped to a record, with its row id and repeat links."""

    record: dict[str, Any]
    id: str
    links: dict[str, str] = field(default_factory=dict)


def _central_node(row: dict, *, prefix: str, top: bool = False) -> _CentralNode:
    """One OData row as a flat record (see the module's docstring for the mapping).

    ``prefix`` is the repeat's path with a trailing ``/`` (empty for a submission): Kobo names the
    fields inside a repeat by their full path, and so do these records.
    """
    record: dict[str, Any] = {}
    links: dict[str, str] = {}
    if top:
        record["_uuid"] = _text(row.get("__id"))

    def flatten(table: dict, path: str) -> None:
        for key, value in table.items():
            if key.startswith("__") and not path:
                continue  # __id, __system, __Submissions-id: mapped below or links to the parent
            if key.endswith(_NAVIGATION):
                name = prefix + path + key.removesuffix(_NAVIGATION)
                links[name] = str(value)
                record[name] = []  # filled with the repeat's rows, in the form's place
            elif isinstance(value, dict) and "coordinates" in value and "type" in value:
                record[prefix + path + key] = _odk_geometry(value)
            elif isinstance(value, dict):
                flatten(value, f"{path}{key}/")
            else:
                record[prefix + path + key] = _text(value)

    flatten(row, "")
    if top:
        system = row.get("__system") if isinstance(row.get("__system"), dict) else {}
        for key, value in system.items():
            record[_CENTRAL_SYSTEM.get(key, f"__system/{key}")] = _text(value)
    return _CentralNode(record, _text(row.get("__id")), links)


def _central_parent_id(row: dict, pages: _Pages, what: str) -> str:
    # the column naming the parent row: __Submissions-id, or __Submissions-<repeat path>-id when nested
    keys = [key for key in row if key.startswith("__Submissions") and key.endswith("-id")]
    if len(keys) != 1:
        raise pages._malformed(what)
    return _text(row[keys[0]])


def _odk_geometry(value: dict) -> str:
    """GeoJSON as ODK writes a geopoint/trace/shape: ``lat lon alt acc``, points joined by ``;``."""
    def point(coordinates: list, accuracy: Any = None) -> str:
        lon, lat, *rest = [_text(c) for c in coordinates]
        return " ".join([lat, lon, *rest, *([_text(accuracy)] if accuracy is not None else [])])

    coordinates = value.get("coordinates") or []
    kind = value.get("type")
    if kind == "Point" and isinstance(coordinates, list) and len(coordinates) >= 2:
        accuracy = (value.get("properties") or {}).get("accuracy") if isinstance(value.get("properties"), dict) \
            else None
        return point(coordinates, accuracy)
    if kind == "LineString" and all(isinstance(c, list) and len(c) >= 2 for c in coordinates):
        return ";".join(point(c) for c in coordinates)
    if kind == "Polygon" and coordinates and all(isinstance(c, list) and len(c) >= 2 for c in coordinates[0]):
        return ";".join(point(c) for c in coordinates[0])
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# --------------------------------------------------------------------------- records to tables


def _merge_submissions(previous: Iterable[dict], fresh: Iterable[dict]) -> list[dict]:
    """``previous`` updated with ``fresh`` by ``_uuid`` (a newer copy replaces the older, as does an
    edit of the copy its ``meta/deprecatedID`` names), ordered by ``_submission_time`` then ``_uuid``."""
    by_uuid = {record["_uuid"]: record for record in previous}
    for record in fresh:
        replaced = record.get("meta/deprecatedID")
        if replaced:
            by_uuid.pop(replaced, None)
            by_uuid.pop(replaced.removeprefix("uuid:"), None)
        by_uuid[record["_uuid"]] = record
    return sorted(by_uuid.values(), key=lambda record: (record.get("_submission_time") or "", record["_uuid"]))


@dataclass
class _Table:
    """A CSV to write: its columns and rows (each a mapping of column to text)."""

    columns: list[str]
    rows: list[dict[str, str]]


def _tabulate(records: list[dict], stem: str) -> dict[str, _Table]:
    """The main table ``<stem>.csv`` and one table ``<stem>-<repeat>.csv`` per repeat group.

    A repeat's file takes the repeat's name (the last part of its path), or its whole path joined by
    ``-`` when two repeats share a name.
    """
    main_rows = [{**_plain(record), "_index": str(index)} for index, record in enumerate(records, start=1)]
    repeats: dict[str, list[dict]] = {}

    def collect(record: dict, table: str, index: str, uuid: str) -> None:
        for key, value in record.items():
            if isinstance(value, list):
                rows = repeats.setdefault(key, [])
                for item in value:
                    row = {**_plain(item), "_index": str(len(rows) + 1), "_parent_table_name": table,
                           "_parent_index": index, "_submission__uuid": uuid}
                    rows.append(row)
                    collect(item, _repeat_name(key), row["_index"], uuid)

    for record, row in zip(records, main_rows, strict=True):
        collect(record, stem, row["_index"], record["_uuid"])
    tables = {f"{stem}.csv": _Table(_columns(main_rows, last=("_index",)), main_rows)}
    names = [_repeat_name(path) for path in repeats]
    for path, rows in repeats.items():
        name = _repeat_name(path) if names.count(_repeat_name(path)) == 1 else path.replace("/", "-")
        tables[f"{stem}-{name}.csv"] = _Table(_columns(rows, last=REPEAT_LINK_COLUMNS), rows)
    return tables


def _repeat_name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _plain(record: dict) -> dict[str, str]:
    """The record's own cells, without its repeats."""
    return {key: value for key, value in record.items() if not isinstance(value, list)}


def _columns(rows: list[dict], last: tuple[str, ...]) -> list[str]:
    """Every key of the rows in form order: a key first seen in a later row goes right after the key
    before it in that row (Kobo leaves unanswered questions out of a submission). Metadata after the
    answers, then ``last``."""
    order: list[str] = []
    seen: set[str] = set()
    for row in rows:
        before: str | None = None
        for key in row:
            if key in last:
                continue
            if key not in seen:
                order.insert(order.index(before) + 1 if before is not None else 0, key)
                seen.add(key)
            before = key
    answers = [key for key in order if not _is_metadata(key)]
    return answers + [key for key in order if _is_metadata(key)] + list(last)


def _is_metadata(key: str) -> bool:
    return key.split("/", 1)[0].startswith("_")


def _text(value: Any) -> str:
    """A value as CSV text: numbers arrive as text already; true/false as in JSON; nothing as ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(not isinstance(v, (list, dict)) for v in value):
        return " ".join(_text(v) for v in value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _count(value: Any, pages: _Pages, what: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise pages._malformed(what) from None


# --------------------------------------------------------------------------- files


def _csv_bytes(table: _Table) -> bytes:
    text = io.StringIO(newline="")
    # CRLF as RFC 4180 says (lqas.safety.write_csv explains why); UTF-8 without BOM
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(table.columns)
    writer.writerows([row.get(column, "") for column in table.columns] for row in table.rows)
    return text.getvalue().encode("utf-8")


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _state(settings: FetchSettings, records: list[dict], files: Mapping[str, bytes]) -> dict:
    form = {"asset": settings.asset} if settings.platform == "kobo" else {"project": settings.project,
                                                                          "form": settings.form}
    updated = [record.get("__system/updatedAt") for record in records if record.get("__system/updatedAt")]
    return {"platform": settings.platform, "server": settings.server, **form, "file": settings.file,
            "count": len(records),
            "newest_submission_time": max((r.get("_submission_time") or "" for r in records), default="") or None,
            "newest_updated_at": max(updated, default=None),
            "files": {name: hashlib.sha256(content).hexdigest() for name, content in sorted(files.items())},
            "fetched_at": datetime.now(UTC).isoformat(timespec="seconds")}


@dataclass(frozen=True)
class _Previous:
    records: list[dict]
    watermark: dict[str, str]

    @property
    def uuids(self) -> list[str]:
        return [record["_uuid"] for record in self.records]


def _previous_download(folder: Path, settings: FetchSettings) -> _Previous | None:
    """The last download of the same form into ``folder``, if every file it wrote is there unchanged."""
    try:
        state = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
        expected = _state(settings, [], {})
        if any(state.get(key) != expected[key] for key in ("platform", "server", "asset", "project", "form", "file")
               if key in expected):
            return None
        files = state["files"]
        for name, digest in files.items():
            if Path(name).name != name or hashlib.sha256((folder / name).read_bytes()).hexdigest() != digest:
                return None
        records = json.loads((folder / f"{Path(settings.file).stem}.json").read_text(encoding="utf-8"))
        if not isinstance(records, list) or not all(isinstance(r, dict) and r.get("_uuid") for r in records):
            return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # no usable previous download: this fetch downloads everything
    watermark = {"submission_time": state.get("newest_submission_time") or "",
                 "updated_at": state.get("newest_updated_at") or ""}
    return _Previous(records, watermark)


def _recorded_files(folder: Path) -> list[str]:
    """The files the last fetch into ``folder`` wrote, as its state says (even when they have changed)."""
    try:
        files = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))["files"]
        return [name for name in files if isinstance(name, str) and Path(name).name == name]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def _replace_files(folder: Path, files: Mapping[str, bytes], state: dict, stale: Iterable[str]) -> dict[str, Path]:
    """Write the files into a folder beside ``folder``, then move each into place (``fetch.json``
    last, so that a fetch cut short is never taken for a complete one); remove what the previous
    download wrote and this one did not (a repeat no longer in the data). Other files are not touched."""
    shown = folder.as_posix()
    staging = folder.parent / f".{folder.name}.fetch-partial-{os.getpid()}"
    contents = {**files, STATE_FILE: _json_bytes(state)}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        for name, content in contents.items():
            (staging / name).write_bytes(content)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise InputError(f"fetch: cannot write the download beside {shown} ({exc.strerror or exc}); nothing in "
                         f"{shown} was changed") from None
    try:
        for name in contents:
            os.replace(staging / name, folder / name)
        for name in set(stale) - set(contents):
            if Path(name).name == name:
                (folder / name).unlink(missing_ok=True)
    except OSError as exc:
        # the files already moved no longer match fetch.json: the next fetch downloads everything
        raise InputError(f"fetch: the download could not be moved into {shown} ({exc.strerror or exc}); fetch "
                         "again once the folder can be written") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {name: folder / name for name in contents}
