"""The documentation site (mkdocs.yml, docs/) is tested like code: it builds with ``--strict`` (a broken
link or anchor fails), its Python examples run, every ``lqas`` command it shows exists with the options it
gives (and the fast ones print what the page says), and the generated ``survey.toml`` reference lists every
key of the project model.

Conventions for pages (docs/README.md says the same):

- every fenced ``python`` block runs, the blocks of one page in order in one interpreter, from a
  temporary folder holding a copy of ``examples/``; a block whose first line is ``# not run`` is skipped;
- in ``console`` blocks a command starts with ``$ ``, the lines up to the next ``$ `` are its output; in
  ``bash``, ``sh``, ``shell`` and ``powershell`` blocks every line is a command;
- a ``lqas rules``, ``lqas design`` or ``lqas table`` command followed by output in a ``console`` block is
  run, and must print exactly that output.
"""

from __future__ import annotations

import concurrent.futures
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
FENCE = re.compile(r"^(?P<indent>[ ]*)```(?P<lang>[\w-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ ]*$", re.MULTILINE | re.DOTALL)
SHELLS = {"bash", "sh", "shell", "powershell"}
FAST = {"rules", "design", "table"}  # commands quick enough to run, whose documented output is checked
# global options main() handles before typer sees the line
MAIN_OPTIONS = {"--debug"}


def _generator():
    spec = importlib.util.spec_from_file_location("gen_reference", DOCS / "gen_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pages() -> list[Path]:
    """The Markdown pages of the site (the stubs left at moved pages' old paths are not part of it)."""
    moved = {"tutorial-kobo.en.md", "tutorial-kobo.fr.md", "indicators.md", "README.md"}
    return sorted(path for path in DOCS.rglob("*.md") if path.name not in moved or path.parent != DOCS)


def blocks(path: Path) -> list[tuple[str, str, int]]:
    """(language, body, line) of each fenced block of a page."""
    text = path.read_text(encoding="utf-8")
    return [(m["lang"], m["body"], text.count("\n", 0, m.start()) + 1) for m in FENCE.finditer(text)]


# ------------------------------------------------------------------------------------------------
# 1. the site builds, strictly


def test_the_site_builds_strictly(tmp_path):
    have = all(importlib.util.find_spec(name) is not None for name in ("mkdocs", "material"))
    require(have, "MkDocs with the Material theme", "pip install '.[test]' (mkdocs>=1.6, mkdocs-material>=9.5)")
    site = tmp_path / "site"
    environment = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # Material's notice about its successor
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-f",
                             str(REPO / "mkdocs.yml"), "-d", str(site)], cwd=REPO, capture_output=True, text=True,
                            env=environment, timeout=300, check=False)
    assert result.returncode == 0, result.stderr + result.stdout
    for lang in ("en", "fr"):
        for name in ("survey-toml", "profile", "config-files", "cli", "outputs", "report-context"):
            assert (site / lang / "reference" / name / "index.html").is_file(), (lang, name)
    # generated pages are made in the build, never written into docs/
    assert not (DOCS / "en" / "reference").exists() and not (DOCS / "fr" / "reference").exists()
    # each language's pages link to each other, and to the other language's same section
    french = (site / "fr" / "tutorials" / "first-run" / "index.html").read_text(encoding="utf-8")
    english = (site / "en" / "tutorials" / "first-run" / "index.html").read_text(encoding="utf-8")
    assert 'href="../kobo-form/"' in french and 'href="../kobo-form/"' in english
    assert 'hreflang="en"' in french and 'hreflang="fr"' in english
    assert "Ce que contient le dossier" in french and "What the run folder holds" in english
    # the theme's own words in the page's language: its lang, search box and table of contents
    assert '<html lang="fr"' in french and '<html lang="en"' in english
    assert 'placeholder="Rechercher"' in french and 'placeholder="Search"' in english
    assert "Table des matières" in french and "Table of contents" not in french and "Table of contents" in english
    # French typography: no break before a colon in the French prose, nothing changed in code
    assert "Premier calcul\u00a0: la démonstration" in french
    code = re.findall(r"<code[^>]*>(.*?)</code>", french, re.DOTALL)
    assert code and not any("\u00a0" in part or "\u202f" in part for part in code)


# ------------------------------------------------------------------------------------------------
# 2. the Python examples run


def _python_pages() -> list[Path]:
    return [path for path in pages() if any(lang == "python" for lang, _, _ in blocks(path))]


def _script(path: Path) -> str:
    parts = []
    for lang, body, line in blocks(path):
        if lang == "python" and not body.lstrip().startswith("# not run"):
            parts.append(f"# --- {path.relative_to(REPO)}, line {line}\n{body}")
    return "\n".join(parts)


def test_every_python_block_runs(tmp_path):
    found = _python_pages()
    assert found, "no page has a python block"
    environment = {**os.environ, "MPLBACKEND": "Agg",
                   "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}

    def run(path: Path) -> tuple[Path, subprocess.CompletedProcess]:
        work = tmp_path / "-".join(path.relative_to(DOCS).with_suffix("").parts)
        shutil.copytree(REPO / "examples", work / "examples",
                        ignore=shutil.ignore_patterns("*.xlsx", "generate.py", "vcqi_*", "besd_faux"))
        script = work / "page.py"
        script.write_text(_script(path), encoding="utf-8")
        return path, subprocess.run([sys.executable, str(script)], cwd=work, capture_output=True, text=True,
                                    env=environment, timeout=300, check=False)

    # one interpreter per page, pages side by side: the notebook tutorial's analyse runs once per language
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        failed = [f"{path.relative_to(REPO)}:\n{result.stderr[-3000:]}"
                  for path, result in pool.map(run, found) if result.returncode != 0]
    assert not failed, "\n\n".join(failed)


# ------------------------------------------------------------------------------------------------
# 3. every lqas command shown exists, with its options


def commands(path: Path) -> list[tuple[list[str], list[str], int]]:
    """(arguments after ``lqas``, documented output lines, line) of every lqas command of a page."""
    found = []
    for lang, body, line in blocks(path):
        if lang == "console":
            lines = body.splitlines()
            for i, text in enumerate(lines):
                if text.startswith("$ "):
                    output = []
                    for following in lines[i + 1:]:
                        if following.startswith("$ "):
                            break
                        output.append(following)
                    found += [(args, output, line + 1 + i) for args in _lqas_args(text[2:])]
        elif lang in SHELLS:
            joined = body.replace("\\\n", " ").replace("`\n", " ")
            for i, text in enumerate(joined.splitlines()):
                found += [(args, [], line + 1 + i) for args in _lqas_args(text)]
    return found


def _lqas_args(command: str) -> list[list[str]]:
    """The arguments of each ``lqas`` call on one shell line (``&&``-chained ones too)."""
    try:
        words = shlex.split(command, comments=True, posix=True)
    except ValueError:
        words = command.split()
    calls, current = [], None
    for word in words:
        if word in ("&&", "||", ";", "|"):
            current = None
            continue
        if current is None and (word == "lqas" or word.endswith(("/lqas", "\\lqas", "lqas.exe"))):
            current = []
            calls.append(current)
        elif current is not None:
            current.append(word)
    return calls


def check_command(args: list[str]) -> list[str]:
    """What is wrong with ``lqas <args>`` against the command tree: unknown commands or options, a
    missing required option or argument, too many arguments."""
    generator = _generator()
    tree = dict(generator.cli_commands())
    path: tuple[str, ...] = ()
    command = tree[()]
    problems = []
    words = [word for word in args if word not in MAIN_OPTIONS]
    i = 0
    while i < len(words) and generator.is_group(command):  # global options, then the command's names
        word = words[i]
        i += 1
        if word.startswith("-"):
            if not _find_option(command, word) and word != "--help":
                problems.append(f"'lqas {' '.join(path)}' has no option {word}")
            continue
        if (*path, word) not in tree:
            return [f"unknown command 'lqas {' '.join((*path, word))}'"]
        path, command = (*path, word), tree[(*path, word)]
    if not path and "--version" not in words and "--help" not in words:
        return ["no command given"]
    rest, positional, given = words[i:], [], set()
    j = 0
    while j < len(rest):
        word = rest[j]
        if word.startswith("-") and len(word) > 1:
            name = word.split("=", 1)[0]
            option = _find_option(command, name)
            if option is None:
                if name != "--help":
                    problems.append(f"'lqas {' '.join(path)}' has no option {name}")
            else:
                given.add(option.name)
                if not getattr(option, "is_flag", False) and "=" not in word:
                    j += 1
        else:
            positional.append(word)
        j += 1
    arguments = [param for param in command.params if param.param_type_name == "argument"]
    if len(positional) > len(arguments):
        problems.append(f"'lqas {' '.join(path)}' takes {len(arguments)} argument(s); got {positional}")
    if "--help" not in words:
        for param in command.params:
            if not param.required:
                continue
            if param.param_type_name == "argument" and arguments.index(param) >= len(positional):
                problems.append(f"'lqas {' '.join(path)}': argument {param.name.upper()} missing")
            elif param.param_type_name == "option" and param.name not in given:
                problems.append(f"'lqas {' '.join(path)}': required option {param.opts[0]} missing")
    return problems


def _find_option(command, name: str):
    for param in command.params:
        if param.param_type_name == "option" and name in (*param.opts, *param.secondary_opts):
            return param
    return None


def test_every_lqas_command_in_the_docs_names_real_commands_and_options():
    problems, count = [], 0
    for path in pages():
        for args, _, line in commands(path):
            count += 1
            problems += [f"{path.relative_to(REPO)}:{line}: lqas {' '.join(args)}: {problem}"
                         for problem in check_command(args)]
    assert count > 20, f"only {count} lqas commands found in the docs"
    assert not problems, "\n".join(problems)


def test_the_checker_catches_what_it_should():
    assert check_command(["rules", "--n", "19", "--good", "0.8", "--bad", "0.5"]) == []
    assert check_command(["--debug", "-q", "run", "survey.toml", "--out", "x", "--lang", "fr"]) == []
    assert check_command(["instrument", "build", "--out", "forms"]) == []
    assert check_command(["--version"]) == []
    assert check_command(["rules", "--n", "19", "--good", "0.8"])  # --bad is required
    assert check_command(["run", "survey.toml", "--output", "x"])  # no such option
    assert check_command(["runn", "survey.toml"])  # no such command
    assert check_command(["validate", "a.toml", "b.toml"])  # one argument
    assert check_command(["instrument", "compile"])
    assert _lqas_args("lqas design --good 0.8 --bad 0.5  # a comment") == [["design", "--good", "0.8", "--bad", "0.5"]]


def test_the_fast_commands_print_what_the_docs_show(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from lqas.cli import app

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    checked, problems = 0, []
    for path in pages():
        for args, output, line in commands(path):
            if not args or args[0] not in FAST or not any(text.strip() for text in output):
                continue
            result = runner.invoke(app, args)
            got = [text.rstrip() for text in result.output.strip("\n").splitlines()]
            want = [text.rstrip() for text in "\n".join(output).strip("\n").splitlines()]
            checked += 1
            if result.exit_code != 0 or got != want:
                problems.append(f"{path.relative_to(REPO)}:{line}: lqas {' '.join(args)}\n"
                                + "documented:\n" + "\n".join(want) + "\nprinted:\n" + "\n".join(got))
    assert checked >= 10, f"only {checked} commands with output checked"
    assert not problems, "\n\n".join(problems)


# ------------------------------------------------------------------------------------------------
# 4. the generated reference lists every key


def _rows_on_page(markdown: str) -> dict[str, str]:
    """Dotted key -> description of a generated page: each table's rows under the heading of its section."""
    section, found = "", {}
    for line in markdown.splitlines():
        heading = re.match(r"^#+ `\[\[?([^\]]+)\]\]?`", line)
        if heading:
            section = heading.group(1)
            continue
        row = re.match(r"^\| `([^`]+)` \|.*\| ([^|]*) \|$", line)
        if row:
            found[f"{section}.{row.group(1)}" if section else row.group(1)] = row.group(2).strip()
    return found


def _keys_on_page(markdown: str) -> set[str]:
    return set(_rows_on_page(markdown))


def _undescribed(markdown: str) -> list[str]:
    return sorted(key for key, what in _rows_on_page(markdown).items() if not what)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_survey_toml_reference_lists_every_key_of_the_project(lang):
    from lqas.config.project import Project

    generator = _generator()
    keys = generator.model_keys(Project)
    assert {"data.file", "data.duplicates.keep", "lqas.targets.good", "rounds.previous.project",
            "report.cover.logos", "small_area.min_areas", "fetch.token_env", "data.merge.<name>.keys"} <= set(keys)
    listed = _keys_on_page(generator.survey_toml_page(lang))
    assert not set(keys) - listed, f"keys of Project missing from the reference: {sorted(set(keys) - listed)}"
    # every field of Project and of its sections, straight from pydantic, is among the keys
    for name, field in Project.model_fields.items():
        if name not in generator.INTERNAL["Project"]:
            assert (field.alias or name) in listed
    assert not {"root", "file"} & listed  # set by load_project, not written in survey.toml
    # a new key needs words: a `#` comment above the field in lqas/config/project.py (or, for a key whose
    # model has no comment, a line in docs/gen_reference.py's EXTRA)
    missing = _undescribed(generator.survey_toml_page(lang))
    assert not missing, f"survey.toml keys without a description: {missing}"


def test_a_key_without_a_comment_is_caught():
    from pydantic import BaseModel

    class Settings(BaseModel):
        # the documented key
        documented: int = 1
        forgotten: str = "x"

    page = "\n".join(_generator().model_sections(Settings, "", "en"))
    assert _keys_on_page(page) == {"documented", "forgotten"}
    assert _undescribed(page) == ["forgotten"]


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_other_references_list_every_key_command_and_table(lang):
    from lqas.config.profile import Profile
    from lqas.outputs import TABLES

    generator = _generator()
    profile = _keys_on_page(generator.profile_page(lang))
    assert not set(generator.model_keys(Profile)) - profile
    cli = generator.cli_page(lang)
    for path, command in generator.cli_commands():
        if path:
            assert f"## `lqas {' '.join(path)}`" in cli
        for param in command.params:
            if param.param_type_name == "option" and param.name != "help":
                assert f"`{param.opts[0]}`" in cli, (path, param.opts)
    outputs = generator.outputs_page(lang)
    for name in TABLES:
        assert f"### `{name}`" in outputs
