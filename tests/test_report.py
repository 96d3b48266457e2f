"""Report templates: French catalog complete, sandboxed autoescaping, locale formatting."""

from pathlib import Path

from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

from lqas.report import environment

TEMPLATES = Path(__file__).resolve().parents[1] / "reports" / "templates"


def template_messages():
    with (TEMPLATES / "report.html.j2").open("rb") as handle:
        for _, _, message, _ in babel_extract(handle, ["_", "gettext"], [], {"extensions": "jinja2.ext.i18n"}):
            yield message[0] if isinstance(message, tuple) else message


def test_every_template_message_has_a_french_translation():
    with (TEMPLATES / "locale" / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale="fr")
    missing = [m for m in template_messages() if catalog.get(m) is None or not catalog.get(m).string]
    assert missing == []


def test_french_number_and_percent_formatting():
    env = environment("fr")
    assert env.from_string("{{ 0.1234 | pct }}").render() == "12,3\u00a0%"
    assert env.from_string("{{ 1153 | num }}").render() == "1\u202f153"
    assert environment("en").from_string("{{ 0.1234 | pct }} {{ 1153 | num }}").render() == "12.3% 1,153"


def test_text_from_the_data_is_escaped():
    env = environment("en")
    html = env.from_string("<p>{{ remark }}</p>").render(remark="<script>alert(1)</script>")
    assert "<script>" not in html and "&lt;script&gt;" in html
