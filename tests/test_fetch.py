"""``lqas fetch`` against a local server (127.0.0.1, a port the system picks) that answers as
KoboToolbox API v2 and ODK Central's OData do: paging, repeats, refusals, failures, a resumed fetch.

Nothing leaves the machine; every test runs in well under a second except the timeout one.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from lqas.config._validation import validate_file
from lqas.config.fetch import FetchSettings
from lqas.errors import ConfigError, InputError
from lqas.fetch import fetch

KOBO_TOKEN = "kobo-secret-7f3a9c"
ODK_TOKEN = "central-app-user-4b8e2d"
ODK_EMAIL, ODK_PASSWORD, ODK_SESSION = "lead@example.org", "pw-never-on-disk-91", "session-token-5c1d"
ASSET = "aLqasChild2025"
BIG_ID = 9007199254740993  # 2**53 + 1: a float would make it ...992


# --------------------------------------------------------------------------- the replaying server


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    authorization: str | None


@dataclass
class Replay:
    """What the server answers; every request it received is in ``seen``."""

    seen: list[Seen] = field(default_factory=list)
    # statuses answered, in turn, to the next requests for submissions; `forever` to all of them
    failures: list[int] = field(default_factory=list)
    forever: int | None = None
    delay: float = 0.0  # seconds before answering a request for submissions
    malformed: bool = False
    base: str = ""

    def answer(self, method: str, path: str, query: dict[str, str], headers, body: bytes) -> tuple[int, bytes]:
        raise NotImplementedError

    def failure(self) -> tuple[int, bytes] | None:
        if self.delay:
            time.sleep(self.delay)
        if self.forever:
            return self.forever, b'{"detail": "server error"}'
        if self.failures:
            return self.failures.pop(0), b'{"detail": "server error"}'
        if self.malformed:
            return 200, b"<html><body>Maintenance</body></html>"
        return None


def serve(replay: Replay):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self._answer("GET")

        def do_POST(self):
            self._answer("POST")

        def do_DELETE(self):
            self._answer("DELETE")

        def _answer(self, method):
            parts = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(parts.query))
            path = urllib.parse.unquote(parts.path)
            replay.seen.append(Seen(method, path, query, self.headers.get("Authorization")))
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, content = replay.answer(method, path, query, self.headers, body)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
            except OSError:
                pass  # the client gave up waiting (timeout test)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.handle_error = lambda request, address: None
    replay.base = f"http://127.0.0.1:{server.server_address[1]}"
    # a short poll: shutdown() waits for the loop to notice, 0.5 s by default
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    return server


@pytest.fixture
def running():
    servers = []

    def start(replay: Replay) -> Replay:
        servers.append(serve(replay))
        return replay

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def as_json(value) -> bytes:
    """JSON of ``value``; a string "__number:<text>" becomes that number as written (json.dumps would
    write a float's shortest form, and the test is that the text sent is the text kept)."""
    return re.sub(r'"__number:([-+.0-9eE]+)"', r"\1", json.dumps(value)).encode()


# --------------------------------------------------------------------------- KoboToolbox


def kobo_submission(n: int, day: int, *, children: tuple[str, ...] = (), **extra) -> dict:
    record = {
        "formhub/uuid": "f00d", "start": f"2025-10-{day:02d}T08:00:00", "today": f"2025-10-{day:02d}",
        "hh/catchment": "niono_central" if n % 2 else "kologo", "hh/cluster": str(10 + n),
        "child/sex": "female" if n % 2 else "male", "child/vax_seen": "bcg penta1",
        "child/photo": f"card{n}.jpg", "child/photo_URL": f"https://kc.example/media/card{n}.jpg",
        "meta/instanceID": f"uuid:k{n}", "_id": BIG_ID + n, "_uuid": f"k{n}",
        "_submission_time": f"2025-10-{day:02d}T18:00:0{n % 10}", "_validation_status": {},
        "_geolocation": [14.2, -5.9], "_tags": [], "_status": "submitted_via_web", "_submitted_by": None,
        "_attachments": [{"download_url": f"https://kc.example/media/card{n}.jpg", "filename": f"card{n}.jpg"}],
    }
    if children:
        # Kobo puts a repeat's entries under its path, each keyed by full paths
        record["children"] = [{"children/child_name": name, "children/age_months": str(12 + i)}
                              for i, name in enumerate(children)]
        record = {key: record[key] for key in [*list(record)[:7], "children", *list(record)[7:-1]]}
    record.update(extra)
    return record


class Kobo(Replay):
    def __init__(self, submissions: list[dict], *, xls: bytes | None = b"XLS-BYTES", foreign_next: bool = False):
        super().__init__()
        self.submissions = submissions
        self.xls = xls
        self.foreign_next = foreign_next

    def answer(self, method, path, query, headers, body):
        if headers.get("Authorization") != f"Token {KOBO_TOKEN}":
            return 401, b'{"detail": "Invalid token."}'
        if path == f"/api/v2/assets/{ASSET}/":
            return 200, as_json({"uid": ASSET, "name": "LQAS child survey", "content": {"survey": []}})
        if path == f"/api/v2/assets/{ASSET}.xls":
            return (200, self.xls) if self.xls is not None else (404, b'{"detail": "Not found."}')
        if path != f"/api/v2/assets/{ASSET}/data/":
            return 404, b'{"detail": "Not found."}'
        failed = self.failure()
        if failed:
            return failed
        chosen = self.submissions
        if "query" in query:
            newer = json.loads(query["query"])["_submission_time"]["$gt"]
            chosen = [s for s in chosen if s["_submission_time"] > newer]
        start, limit = int(query.get("start", 0)), int(query.get("limit", 100))
        following = None
        if start + limit < len(chosen):
            base = "https://elsewhere.example" if self.foreign_next else self.base
            following = f"{base}{path}?" + urllib.parse.urlencode({**query, "start": start + limit})
        return 200, as_json({"count": len(chosen), "next": following, "previous": None,
                             "results": chosen[start:start + limit]})

    def data_requests(self) -> list[Seen]:
        return [s for s in self.seen if s.path.endswith("/data/")]


def kobo_settings(server: str, **changes) -> FetchSettings:
    return FetchSettings(server=server, platform="kobo", asset=ASSET, **changes)


def kobo_env() -> dict[str, str]:
    return {"KOBO_TOKEN": KOBO_TOKEN}


def read_csv(path: Path) -> list[list[str]]:
    import csv

    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


def download_files(folder: Path) -> dict[str, bytes]:
    """Every file of a download but its state file (which says when it was made)."""
    return {name: content for name, content in snapshot(folder).items() if name != "fetch.json"}


def test_kobo_follows_next_over_three_pages_and_writes_the_export_shape(running, tmp_path):
    # the server lists them out of time order: the file is ordered by _submission_time then _uuid
    submissions = [kobo_submission(n, day) for n, day in ((3, 3), (1, 1), (2, 2), (5, 5), (4, 4))]
    kobo = running(Kobo(submissions))

    result = fetch(kobo_settings(kobo.base), tmp_path, environ=kobo_env(), page_size=2, backoff=0)

    assert [s.query.get("start") for s in kobo.data_requests()] == ["0", "2", "4"]
    assert all(s.authorization == f"Token {KOBO_TOKEN}" for s in kobo.seen)
    assert (result.submissions, result.new, result.platform) == (5, 5, "kobo")
    rows = read_csv(tmp_path / "data" / "submissions.csv")
    header, body = rows[0], rows[1:]
    # answers in form order, then metadata, then _index; attachments and media URLs left out
    assert header[:8] == ["formhub/uuid", "start", "today", "hh/catchment", "hh/cluster", "child/sex",
                          "child/vax_seen", "child/photo"]
    assert header[-1] == "_index" and "_attachments" not in header and "child/photo_URL" not in header
    column = {name: [row[header.index(name)] for row in body] for name in header}
    assert column["_uuid"] == ["k1", "k2", "k3", "k4", "k5"]
    assert column["_index"] == ["1", "2", "3", "4", "5"]
    assert column["_id"][0] == str(BIG_ID + 1)  # the id as sent, never through a float
    assert column["child/vax_seen"][0] == "bcg penta1"
    assert column["_geolocation"][0] == "14.2 -5.9" and column["_validation_status"][0] == ""
    raw = (tmp_path / "data" / "submissions.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    assert json.loads((tmp_path / "data" / "form.json").read_bytes())["uid"] == ASSET
    assert (tmp_path / "data" / "form.xls").read_bytes() == b"XLS-BYTES"
    state = json.loads((tmp_path / "data" / "fetch.json").read_text())
    assert (state["platform"], state["asset"], state["count"]) == ("kobo", ASSET, 5)
    assert state["newest_submission_time"] == "2025-10-05T18:00:05"
    assert state["fetched_at"].endswith("+00:00")
    for name, digest in state["files"].items():
        assert hashlib.sha256((tmp_path / "data" / name).read_bytes()).hexdigest() == digest
    assert set(result.files) == {"submissions.csv", "submissions.json", "form.json", "form.xls", "fetch.json"}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left


def test_kobo_repeat_goes_to_its_own_csv_linked_to_its_parent_row(running, tmp_path):
    submissions = [kobo_submission(1, 1, children=("Awa", "Moussa")), kobo_submission(2, 2),
                   kobo_submission(3, 3, children=("Fanta",))]
    kobo = running(Kobo(submissions, xls=None))

    result = fetch(kobo_settings(kobo.base), tmp_path, environ=kobo_env(), backoff=0)

    main = read_csv(tmp_path / "data" / "submissions.csv")
    assert "children" not in main[0] and "children/child_name" not in main[0]
    assert read_csv(tmp_path / "data" / "submissions-children.csv") == [
        ["children/child_name", "children/age_months", "_index", "_parent_table_name", "_parent_index",
         "_submission__uuid"],
        ["Awa", "12", "1", "submissions", "1", "k1"],
        ["Moussa", "13", "2", "submissions", "1", "k1"],
        ["Fanta", "12", "3", "submissions", "3", "k3"],
    ]
    assert "form.xls" not in result.files and not (tmp_path / "data" / "form.xls").exists()  # 404: skipped


def test_kobo_token_refused_is_one_line_naming_server_status_and_variable(running, tmp_path):
    kobo = running(Kobo([kobo_submission(1, 1)]))

    with pytest.raises(InputError) as caught:
        fetch(kobo_settings(kobo.base), tmp_path, environ={"KOBO_TOKEN": "wrong-token-000"}, backoff=0)

    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"fetch: {kobo.base} answered 401 (token refused)")
    assert "set KOBO_TOKEN to a valid API token" in message and "wrong-token-000" not in message
    assert not (tmp_path / "data").exists()


def test_kobo_unknown_asset_is_a_404_naming_the_asset_setting(running, tmp_path):
    kobo = running(Kobo([kobo_submission(1, 1)]))

    with pytest.raises(InputError, match=r"answered 404 \(not found\) for the form of asset 'aUnknown'.*"
                                         r"check \[fetch\] asset"):
        fetch(FetchSettings(server=kobo.base, platform="kobo", asset="aUnknown"), tmp_path, environ=kobo_env(),
              backoff=0)


def test_server_error_is_retried_then_the_download_succeeds(running, tmp_path):
    kobo = running(Kobo([kobo_submission(1, 1), kobo_submission(2, 2)]))
    kobo.failures = [500, 503]

    result = fetch(kobo_settings(kobo.base), tmp_path, environ=kobo_env(), retries=3, backoff=0.001)

    assert result.submissions == 2
    assert len(kobo.data_requests()) == 3  # two failures, then the answer
    assert len(read_csv(tmp_path / "data" / "submissions.csv")) == 3


def test_server_failing_every_time_leaves_the_previous_download_byte_identical(running, tmp_path):
    kobo = running(Kobo([kobo_submission(1, 1, children=("Awa",)), kobo_submission(2, 2)]))
    fetch(kobo_settings(kobo.base), tmp_path, environ=kobo_env(), backoff=0)
    (tmp_path / "data" / "populations.csv").write_text("catchment,population\n")  # the user's own file
    before = snapshot(tmp_path / "data")
    kobo.submissions.append(kobo_submission(3, 3))
    kobo.forever = 500

    for full in (False, True):
        with pytest.raises(InputError) as caught:
            fetch(kobo_settings(kobo.base), tmp_path, environ=kobo_env(), retries=2, backoff=0, full=full)
        message = str(caught.value)
        assert "\n" not in message and "answered 500" in message and "3 attempts" in message
        assert "nothing in data/ was changed" in message
        assert snapshot(tmp_path / "data") == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_server_slower_than_the_timeout_is_one_line_and_changes_nothing(running, tmp_path):
    kobo = running(Kobo([kobo_submission(1, 1)]))
    fetch(kobo_settings(kobo.base), tmp_path, environ=kobo_env(), backoff=0)
    before = snapshot(tmp_path / "data")
    kobo.delay = 1.0

    started = time.monotonic()
    with pytest.raises(InputError) as caught:
        fetch(kobo_settings(kobo.base), tmp_path, environ=kobo_env(), timeout=0.2, retries=1, backoff=0, full=True)

    assert time.monotonic() - started < 1.5  # gave up after two waits of 0.2 s, not the server's 1 s each
    assert str(caught.value) == (f"fetch: {kobo.base} did not answer within 0.2 s to 2 attempts for the "
                                 f"submissions of asset '{ASSET}': check the connection and try again later; "
                                 "nothing in data/ was changed")
    assert snapshot(tmp_path / "data") == before


def test_an_answer_that_is_not_json_is_refused_in_one_line(running, tmp_path):
    kobo = running(Kobo([kobo_submission(1, 1)]))
    kobo.malformed = True

    with pytest.raises(InputError) as caught:
        fetch(kobo_settings(kobo.base), tmp_path, environ=kobo_env(), backoff=0)

    message = str(caught.value)
    assert "\n" not in message and "sent something other than the expected JSON for the submissions" in message
    assert "[fetch] server is the KoboToolbox address" in message
    assert not (tmp_path / "data").exists()


def test_missing_environment_variable_is_named_before_any_request(running, tmp_path):
    kobo = running(Kobo([kobo_submission(1, 1)]))

    with pytest.raises(InputError, match=r"^fetch: environment variable KOBO_TOKEN is not set: set it to the API "
                                         r"token .*\(Account settings > Security\)$"):
        fetch(kobo_settings(kobo.base), tmp_path, environ={}, backoff=0)
    with pytest.raises(InputError, match=r"environment variable MY_KOBO is not set"):
        fetch(kobo_settings(kobo.base, token_env="MY_KOBO"), tmp_path, environ=kobo_env(), backoff=0)
    with pytest.raises(InputError, match=r"ODK_CENTRAL_TOKEN is not set: .*ODK_CENTRAL_EMAIL and "
                                         r"ODK_CENTRAL_PASSWORD"):
        fetch(central_settings(kobo.base), tmp_path, environ={"ODK_CENTRAL_EMAIL": ODK_EMAIL}, backoff=0)
    assert kobo.seen == []


def test_next_page_on_another_server_is_not_followed(running, tmp_path):
    kobo = running(Kobo([kobo_submission(n, n) for n in range(1, 4)], foreign_next=True))

    with pytest.raises(InputError) as caught:
        fetch(kobo_settings(kobo.base), tmp_path, environ=kobo_env(), page_size=2, backoff=0)

    message = str(caught.value)
    assert "\n" not in message and "link to another server (https://elsewhere.example:443)" in message
    assert "not sent there" in message
    assert len(kobo.data_requests()) == 1 and not (tmp_path / "data").exists()


def test_kobo_resume_asks_only_for_newer_submissions_and_equals_a_full_download(running, tmp_path):
    kobo = running(Kobo([kobo_submission(1, 1, children=("Awa",)), kobo_submission(2, 2),
                         kobo_submission(3, 3, children=("Fanta",))]))
    fetch(kobo_settings(kobo.base), tmp_path / "resumed", environ=kobo_env(), page_size=2, backoff=0)
    # later: a new submission, and submission 3 edited in Enketo (a new uuid naming the one it replaces)
    edited = kobo_submission(6, 6, children=("Fanta", "Issa"), **{"meta/deprecatedID": "uuid:k3"})
    kobo.submissions[2:] = [kobo_submission(4, 4), edited]
    kobo.seen.clear()

    result = fetch(kobo_settings(kobo.base), tmp_path / "resumed", environ=kobo_env(), page_size=2, backoff=0)

    queries = [s.query.get("query") for s in kobo.data_requests()]
    assert [json.loads(q) for q in queries if q] == [{"_submission_time": {"$gt": "2025-10-03T18:00:03"}}]
    assert (result.submissions, result.new) == (4, 2)
    fetch(kobo_settings(kobo.base), tmp_path / "full", environ=kobo_env(), backoff=0)
    assert download_files(tmp_path / "resumed" / "data") == download_files(tmp_path / "full" / "data")
    uuids = [row[read_csv(tmp_path / "full/data/submissions.csv")[0].index("_uuid")]
             for row in read_csv(tmp_path / "full/data/submissions.csv")[1:]]
    assert uuids == ["k1", "k2", "k4", "k6"]


def test_resume_after_a_deletion_downloads_everything_again(running, tmp_path):
    kobo = running(Kobo([kobo_submission(n, n) for n in range(1, 4)]))
    fetch(kobo_settings(kobo.base), tmp_path / "resumed", environ=kobo_env(), backoff=0)
    del kobo.submissions[1]

    result = fetch(kobo_settings(kobo.base), tmp_path / "resumed", environ=kobo_env(), backoff=0)

    assert result.submissions == 2
    fetch(kobo_settings(kobo.base), tmp_path / "full", environ=kobo_env(), backoff=0)
    assert download_files(tmp_path / "resumed" / "data") == download_files(tmp_path / "full" / "data")


def test_a_previous_download_edited_by_hand_is_not_resumed(running, tmp_path):
    kobo = running(Kobo([kobo_submission(1, 1), kobo_submission(2, 2)]))
    fetch(kobo_settings(kobo.base), tmp_path, environ=kobo_env(), backoff=0)
    (tmp_path / "data" / "submissions.json").write_text("[]")
    kobo.seen.clear()

    result = fetch(kobo_settings(kobo.base), tmp_path, environ=kobo_env(), backoff=0)

    assert all("query" not in s.query for s in kobo.data_requests())
    assert result.submissions == 2 and len(json.loads((tmp_path / "data" / "submissions.json").read_text())) == 2


# --------------------------------------------------------------------------- ODK Central


PROJECT, FORM = 7, "lqas_child"
FORM_PATH = f"/v1/projects/{PROJECT}/forms/{FORM}"


def central_submission(n: int, day: int, *, children: tuple[str, ...] = (), updated: str | None = None) -> dict:
    uuid = f"uuid:c{n}"
    return {
        "__id": uuid,
        "today": f"2025-10-{day:02d}",
        "hh": {"catchment": "niono_central" if n % 2 else "kologo", "cluster": str(10 + n),
               "gps": {"type": "Point", "coordinates": [-5.9, 14.2, 280], "properties": {"accuracy": 4.5}}},
        "child": {"sex": "female", "vax_seen": "bcg penta1", "weight_kg": "__number:9.750"},
        "children@odata.navigationLink": f"Submissions('{urllib.parse.quote(uuid, safe='')}')/children",
        "meta": {"instanceID": uuid},
        "__system": {"submissionDate": f"2025-10-{day:02d}T18:00:00.00{n % 10}Z", "updatedAt": updated,
                     "submitterId": "5", "submitterName": "enqueteur1", "attachmentsPresent": 0,
                     "attachmentsExpected": 0, "status": None, "reviewState": "approved" if n == 1 else None,
                     "deviceId": None, "edits": 0, "formVersion": "2025-10"},
        "_children": list(children),  # the fake's own bookkeeping, removed before answering
    }


class Central(Replay):
    def __init__(self, submissions: list[dict], *, next_links: bool = True, xlsx: bytes | None = None):
        super().__init__()
        self.submissions = submissions
        self.next_links = next_links
        self.xlsx = xlsx

    def answer(self, method, path, query, headers, body):
        if path == "/v1/sessions" and method == "POST":
            login = json.loads(body)
            if (login.get("email"), login.get("password")) == (ODK_EMAIL, ODK_PASSWORD):
                return 200, as_json({"token": ODK_SESSION, "expiresAt": "2025-10-10T00:00:00Z"})
            return 401, b'{"message": "Could not authenticate with the provided credentials."}'
        if headers.get("Authorization") not in (f"Bearer {ODK_TOKEN}", f"Bearer {ODK_SESSION}"):
            return 401, b'{"message": "Could not authenticate with the provided credentials."}'
        if path == "/v1/sessions/current" and method == "DELETE":
            return 200, b'{"success": true}'
        if path == f"{FORM_PATH}.xml":
            return 200, b"<h:html><h:head><h:title>LQAS</h:title></h:head></h:html>"
        if path == f"{FORM_PATH}.xlsx":
            return (200, self.xlsx) if self.xlsx else (404, b'{"message": "Not found."}')
        failed = self.failure()
        if failed:
            return failed
        if path == f"{FORM_PATH}.svc/Submissions":
            return 200, self.page(path, query, [self.visible(s) for s in self.filtered(query)])
        if path == f"{FORM_PATH}.svc/Submissions.children":
            rows = [row for s in self.submissions for row in self.children(s)]
            return 200, self.page(path, query, rows)
        linked = re.fullmatch(rf"{re.escape(FORM_PATH)}\.svc/Submissions\('([^']+)'\)/children", path)
        if linked:
            return 200, self.page(path, query, [row for s in self.submissions if s["__id"] == linked.group(1)
                                                for row in self.children(s)])
        return 404, b'{"message": "Not found."}'

    def filtered(self, query):
        condition = query.get("$filter")
        if not condition:
            return self.submissions
        match = re.fullmatch(r"__system/submissionDate gt (\S+)(?: or __system/updatedAt gt (\S+))?", condition)
        assert match, condition
        since, updated = match.groups()
        return [s for s in self.submissions if s["__system"]["submissionDate"] > since
                or (updated and (s["__system"]["updatedAt"] or "") > updated)]

    @staticmethod
    def visible(submission):
        return {key: value for key, value in submission.items() if key != "_children"}

    @staticmethod
    def children(submission):
        return [{"__id": f"{submission['__id']}-{i}", "child_name": name, "age_months": 12 + i,
                 "__Submissions-id": submission["__id"]} for i, name in enumerate(submission["_children"])]

    def page(self, path, query, rows):
        top, skip = int(query.get("$top", 1000)), int(query.get("$skip", 0))
        answer = {"@odata.context": f"{self.base}{path}/$metadata", "value": rows[skip:skip + top]}
        if query.get("$count") == "true":
            answer["@odata.count"] = len(rows)
        if self.next_links and top and skip + top < len(rows):
            answer["@odata.nextLink"] = f"{self.base}{path}?" + urllib.parse.urlencode({**query, "$skip": skip + top})
        return as_json(answer)

    def requests_for(self, ending: str) -> list[Seen]:
        return [s for s in self.seen if s.path.endswith(ending)]


def central_settings(server: str, **changes) -> FetchSettings:
    return FetchSettings(**{"server": server, "platform": "odk", "project": PROJECT, "form": FORM, **changes})


@pytest.mark.parametrize("next_links", [True, False], ids=["nextLink", "skip"])
def test_central_pages_flattens_groups_maps_system_fields_and_reads_repeat_table(running, tmp_path, next_links):
    central = running(Central([central_submission(n, n, children=("Awa", "Issa") if n == 2 else ())
                               for n in (5, 2, 4, 1, 3)], next_links=next_links))

    result = fetch(central_settings(central.base), tmp_path, environ={"ODK_CENTRAL_TOKEN": ODK_TOKEN}, page_size=2,
                   backoff=0)

    pages = central.requests_for(".svc/Submissions")
    assert [s.query.get("$skip") for s in pages] == ["0", "2", "4"]
    assert all(s.authorization == f"Bearer {ODK_TOKEN}" for s in central.seen)
    assert (result.submissions, result.platform) == (5, "odk")
    rows = read_csv(tmp_path / "data" / "submissions.csv")
    header, first = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert header[:7] == ["today", "hh/catchment", "hh/cluster", "hh/gps", "child/sex", "child/vax_seen",
                          "child/weight_kg"]
    assert "children" not in header and header[-1] == "_index"
    assert first["hh/gps"] == "14.2 -5.9 280 4.5"  # GeoJSON as ODK's "lat lon alt acc"
    assert first["child/weight_kg"] == "9.750" and first["meta/instanceID"] == "uuid:c1"
    assert (first["_uuid"], first["_submission_time"], first["_validation_status"]) == (
        "uuid:c1", "2025-10-01T18:00:00.001Z", "approved")
    assert first["__system/submitterId"] == "5" and first["__system/updatedAt"] == ""
    assert [row[header.index("_uuid")] for row in rows[1:]] == [f"uuid:c{n}" for n in range(1, 6)]
    assert read_csv(tmp_path / "data" / "submissions-children.csv") == [
        ["children/child_name", "children/age_months", "_index", "_parent_table_name", "_parent_index",
         "_submission__uuid"],
        ["Awa", "12", "1", "submissions", "2", "uuid:c2"],
        ["Issa", "13", "2", "submissions", "2", "uuid:c2"],
    ]
    assert len(central.requests_for(".svc/Submissions.children")) == 1  # one table, not one call per submission
    assert (tmp_path / "data" / "form.xml").read_bytes().startswith(b"<h:html>")
    assert "form.xlsx" not in result.files


def test_central_login_opens_and_closes_a_session_and_writes_no_credential(running, tmp_path):
    central = running(Central([central_submission(1, 1, children=("Awa",))], xlsx=b"XLSX-BYTES"))
    environ = {"ODK_CENTRAL_EMAIL": ODK_EMAIL, "ODK_CENTRAL_PASSWORD": ODK_PASSWORD}

    result = fetch(central_settings(central.base), tmp_path, environ=environ, backoff=0)

    calls = [(s.method, s.path) for s in central.seen]
    assert (calls[0], calls[-1]) == (("POST", "/v1/sessions"), ("DELETE", "/v1/sessions/current"))
    assert all(s.authorization == f"Bearer {ODK_SESSION}" for s in central.seen[1:])
    assert (tmp_path / "data" / "form.xlsx").read_bytes() == b"XLSX-BYTES"
    for secret in (ODK_PASSWORD, ODK_SESSION):
        assert not [p for p in tmp_path.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
        assert secret not in repr(result)


def test_central_refused_credential_and_unknown_form_are_one_line(running, tmp_path):
    central = running(Central([central_submission(1, 1)]))

    with pytest.raises(InputError) as refused:
        fetch(central_settings(central.base), tmp_path, environ={"ODK_CENTRAL_TOKEN": "stale-token-123"}, backoff=0)
    with pytest.raises(InputError) as missing:
        fetch(central_settings(central.base, form="other_form"), tmp_path, environ={"ODK_CENTRAL_TOKEN": ODK_TOKEN},
              backoff=0)

    assert "answered 401 (credential refused)" in str(refused.value)
    assert "set ODK_CENTRAL_TOKEN to a valid session or app-user token" in str(refused.value)
    assert "stale-token-123" not in str(refused.value)
    assert "answered 404 (not found) for the XForm of form 'other_form' of project 7" in str(missing.value)
    assert "\n" not in str(refused.value) + str(missing.value)


def test_central_resume_filters_on_dates_reads_new_repeats_by_link_and_equals_a_full_download(running, tmp_path):
    central = running(Central([central_submission(n, n, children=("Awa",) if n == 1 else ()) for n in (1, 2, 3)]))
    environ = {"ODK_CENTRAL_TOKEN": ODK_TOKEN}
    fetch(central_settings(central.base), tmp_path / "resumed", environ=environ, page_size=2, backoff=0)
    # later: submission 2 edited (same __id, updatedAt moves) and a new submission 4 with a repeat
    edited = central_submission(2, 2, children=("Moussa",), updated="2025-10-05T09:00:00.000Z")
    edited["today"] = "2025-10-03"
    central.submissions[1] = edited
    central.submissions.append(central_submission(4, 4, children=("Fanta", "Issa")))
    central.seen.clear()

    result = fetch(central_settings(central.base), tmp_path / "resumed", environ=environ, page_size=2, backoff=0)

    filters = {s.query.get("$filter") for s in central.requests_for(".svc/Submissions")}
    since = "2025-10-03T18:00:00.003Z"
    assert filters == {None, f"__system/submissionDate gt {since} or __system/updatedAt gt {since}"}  # None: count
    assert {s.query.get("$top") for s in central.requests_for(".svc/Submissions") if "$filter" not in s.query} == {
        "0"}
    assert not central.requests_for(".svc/Submissions.children")
    assert sorted(s.path.rsplit("/", 2)[-2] for s in central.requests_for("/children")) == [
        "Submissions('uuid:c2')", "Submissions('uuid:c4')"]
    assert (result.submissions, result.new) == (4, 1)
    # the next resume also asks for what was updated after the newest update it holds
    central.seen.clear()
    fetch(central_settings(central.base), tmp_path / "resumed", environ=environ, backoff=0)
    assert {s.query.get("$filter") for s in central.requests_for(".svc/Submissions")} == {
        None, "__system/submissionDate gt 2025-10-04T18:00:00.004Z or __system/updatedAt gt 2025-10-05T09:00:00.000Z"}

    central.submissions[1]["__system"]["updatedAt"] = "2025-10-06T09:00:00.000Z"
    fetch(central_settings(central.base), tmp_path / "resumed", environ=environ, backoff=0)
    fetch(central_settings(central.base), tmp_path / "full", environ=environ, backoff=0)
    resumed, full = download_files(tmp_path / "resumed" / "data"), download_files(tmp_path / "full" / "data")
    assert resumed == full
    assert b"Moussa" in full["submissions-children.csv"] and b"2025-10-03" in full["submissions.csv"]


# --------------------------------------------------------------------------- secrets and settings


def test_token_appears_in_no_written_file_and_no_message(running, tmp_path):
    kobo = running(Kobo([kobo_submission(1, 1, children=("Awa",))]))
    result = fetch(kobo_settings(kobo.base), tmp_path, environ=kobo_env(), backoff=0)
    kobo.forever = 503
    with pytest.raises(InputError) as caught:
        fetch(kobo_settings(kobo.base), tmp_path, environ=kobo_env(), retries=0, backoff=0)

    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) >= 5
    assert not [p for p in written if KOBO_TOKEN.encode() in p.read_bytes()]
    assert KOBO_TOKEN not in str(caught.value) and KOBO_TOKEN not in repr(result)


def test_fetch_settings_validate_the_form_for_each_platform():
    def problems(raw):
        with pytest.raises(ConfigError) as caught:
            validate_file(FetchSettings, raw, "survey.toml")
        return str(caught.value).splitlines()

    assert problems({"server": "https://kf.kobotoolbox.org", "platform": "kobo", "project": 3}) == [
        ("survey.toml: key 'asset': platform = 'kobo' needs asset = '<asset uid>' (the id in the form's address, "
         ".../#/forms/<asset>/...)"),
        "survey.toml: key 'project': is for platform = 'odk'; a Kobo form is named by asset alone"]
    assert problems({"server": "https://central.example.org", "platform": "odk", "form": "x"}) == [
        "survey.toml: key 'project': platform = 'odk' needs project = <number> (as in .../#/projects/<number>)"]
    assert problems({"server": "http://central.example.org", "platform": "odk", "project": 1, "form": "x"}) == [
        "survey.toml: key 'server': must start with https:// (the token would travel unencrypted over http)"]
    assert problems({"server": "https://kf.kobotoolbox.org", "platform": "kobo", "asset": "a1",
                     "token_env": KOBO_TOKEN})[0].endswith("got a value that is not a variable name")
    assert "would overwrite the form or fetch.json" in problems({"server": "https://kf.kobotoolbox.org",
                                                                 "platform": "kobo", "asset": "a1",
                                                                 "file": "form.csv"})[0]
    kobo = validate_file(FetchSettings, {"server": "https://kf.kobotoolbox.org/", "platform": "kobo",
                                         "asset": "a1"}, "survey.toml")
    odk = validate_file(FetchSettings, {"server": "http://127.0.0.1:8383", "platform": "odk", "project": 2,
                                        "form": "f"}, "survey.toml")
    assert (kobo.server, kobo.token_env, kobo.folder, kobo.file) == ("https://kf.kobotoolbox.org", "KOBO_TOKEN",
                                                                     Path("data"), "submissions.csv")
    assert odk.token_env == "ODK_CENTRAL_TOKEN"


# --------------------------------------------------------------------------- from the server to the children


def test_a_fetched_kobo_form_with_a_repeat_reads_every_child_as_the_truth(running, tmp_path):
    """`lqas fetch` of the foreign form (tests/foreign_form, one submission per household, children in
    a repeat) from a KoboToolbox replay, then the project read through the XLSForm saved beside it."""
    import random

    from foreign_form import build as fixture
    from foreign_form.check_formpack import _stored
    from test_foreign_form import PROFILE, _check_against_truth

    from lqas.config import load_project
    from lqas.derive import derive_project

    built = fixture.build(tmp_path / "fixture")
    rng = random.Random(7)
    households = fixture.simulate(rng, 120)
    fixture.submissions_for(rng, households, flat=True)
    submissions = [_stored(sub) for sub in fixture.submissions_for(rng, households, flat=False)]
    kobo = running(Kobo(submissions, xls=built["formulaire"].read_bytes()))
    project = tmp_path / "project"
    project.mkdir()
    (project / "profile.toml").write_text(PROFILE, encoding="utf-8")
    (project / "survey.toml").write_text(f"""
[survey]
name = "Enquête LQAS commune 6"
[data]
file = "data/submissions.csv"
form = "data/form.xls"
profile = "profile.toml"
[design]
weights = "equal"
[cohorts]
"0-11m" = [0, 364]
"12-23m" = [365, 729]
[fetch]
server = "{kobo.base}"
platform = "kobo"
asset = "{ASSET}"
""", encoding="utf-8")
    settings = load_project(project / "survey.toml")
    result = fetch(settings.fetch, settings.root, environ=kobo_env(), backoff=0)
    assert (result.submissions, (project / "data" / "submissions-enfant.csv").is_file()) == (120, True)
    derived = derive_project(load_project(project / "survey.toml"))
    assert derived.decoding["rows"] == "one row per child (repeat group 'enfant')"
    _check_against_truth(derived, pd.read_csv(built["truth"], dtype=str).set_index("id_enfant"))


def test_lqas_fetch_on_the_command_line_is_one_line_without_a_token(tmp_path):
    import os
    import subprocess
    import sys

    (tmp_path / "survey.toml").write_text('[data]\nfile = "data/submissions.csv"\n[fetch]\n'
                                          'server = "http://127.0.0.1:9"\nplatform = "kobo"\nasset = "abc"\n',
                                          encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if k != "KOBO_TOKEN"}
    result = subprocess.run([sys.executable, "-m", "lqas", "fetch", str(tmp_path / "survey.toml")],
                            check=False, capture_output=True, text=True, env=environment, timeout=120)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("lqas: error:") and "KOBO_TOKEN" in result.stderr
