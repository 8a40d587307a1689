"""The English catalogue (issue 8, "Polish"): complete, current with the sources, and used by the pages.

The source language is Chinese: every msgid is Chinese and ``locale/en/LC_MESSAGES/django.po`` holds
the English. These tests keep it that way without GNU gettext where they can: a small .po reader,
Python's own .mo reader, and ``makemessages`` (which needs xgettext) only for the freshness check.
"""

from __future__ import annotations

import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import Story, login

ROOT = Path(settings.BASE_DIR)
PO = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
# The same command as `make messages`, plus var/ (a run's collected static files and uploads).
MAKEMESSAGES = ["makemessages", "-l", "en", "--no-obsolete", "--ignore=.venv", "--ignore=bench", "--ignore=var"]
# Not copied into the scratch tree: nothing in them is scanned by the command above, or they are big.
NOT_SOURCES = {".git", ".venv", "var", "bench", "locale", "staticfiles", "node_modules", "__pycache__"}
NOT_SOURCES |= {".pytest_cache", ".ruff_cache", ".hypothesis", "screenshots"}


# --- A small .po reader --------------------------------------------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        return (self.msgctxt, self.msgid, self.msgid_plural)


def read_po(path: Path) -> list[Entry]:
    """Entries of a .po file (the header, msgid "", included), strings unescaped."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int] | None = None

    def finish() -> None:
        nonlocal current, target
        if current is not None and (current.msgstr or current.obsolete):
            entries.append(current)
        current, target = None, None

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
            continue
        if current is None:
            current = Entry()
        if line.startswith("#~"):
            current.obsolete = True
        elif line.startswith("#,"):
            current.flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            assert target is not None, f"{path}: a continued string without a keyword: {raw!r}"
            value = ast.literal_eval(line)
            if target[0] == "msgstr":
                current.msgstr[target[1]] += value
            else:
                setattr(current, target[0], getattr(current, target[0]) + value)
        else:
            keyword, _space, rest = line.partition(" ")
            value = ast.literal_eval(rest)
            if keyword.startswith("msgstr"):
                index = int(keyword[7:-1]) if keyword.startswith("msgstr[") else 0
                current.msgstr[index] = value
                target = ("msgstr", index)
            else:
                assert keyword in ("msgid", "msgid_plural", "msgctxt"), f"{path}: unexpected line {raw!r}"
                setattr(current, keyword, value)
                target = (keyword, 0)
    finish()
    return entries


def messages(path: Path) -> list[Entry]:
    return [e for e in read_po(path) if e.msgid and not e.obsolete]


# Printf placeholders (%s, %d, %(name)s, %.1f; "%%" is a literal percent sign) and str.format ones.
PRINTF = re.compile(r"%%|%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
BRACES = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def placeholders(text: str, entry: Entry) -> Counter:
    found = Counter(m for m in PRINTF.findall(text) if m != "%%")
    if "python-brace-format" in entry.flags:
        found += Counter(BRACES.findall(text))
    return found


# --- (a) every message translated ---------------------------------------------------------------


def test_the_english_catalogue_is_committed_with_its_header():
    assert PO.exists(), "locale/en/LC_MESSAGES/django.po is missing: run `make messages`"
    assert MO.exists(), "locale/en/LC_MESSAGES/django.mo is missing: run `make messages` (compilemessages)"
    header = next(e for e in read_po(PO) if e.msgid == "")
    assert "fuzzy" not in header.flags, "the header is marked fuzzy: msgfmt would drop it"
    assert "Language: en\n" in header.msgstr[0]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header.msgstr[0]
    assert "charset=UTF-8" in header.msgstr[0]


def test_every_message_has_an_english_translation_and_none_is_fuzzy():
    entries = read_po(PO)
    assert not [e.msgid for e in entries if e.obsolete], "obsolete (#~) entries: run `make messages`"
    entries = messages(PO)
    assert len(entries) > 500
    untranslated = [e.msgid for e in entries if not all(s.strip() for s in e.msgstr.values())]
    assert not untranslated, f"{len(untranslated)} untranslated: {untranslated[:10]}"
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    assert not fuzzy, f"fuzzy (a guess by msgmerge, not used at run time): {fuzzy[:10]}"
    plural = [e for e in entries if e.msgid_plural is not None]
    assert all(sorted(e.msgstr) == [0, 1] for e in plural), "English needs two plural forms"


def test_translations_keep_every_placeholder():
    wrong = []
    for entry in messages(PO):
        for index, text in entry.msgstr.items():
            source = entry.msgid if index == 0 or entry.msgid_plural is None else entry.msgid_plural
            if placeholders(text, entry) != placeholders(source, entry):
                wrong.append((entry.msgid, text))
    assert not wrong, wrong[:10]


def test_the_english_is_english():
    # A msgstr copied from its msgid would pass the checks above; Chinese is allowed only where the
    # English quotes what users must type into a Chinese spreadsheet (column names, values).
    cjk = re.compile(r"[\u4e00-\u9fff]")
    quoted = re.compile(r"“[^”]*”|[\u4e00-\u9fff]+ \(")
    copied = [
        e.msgid
        for e in messages(PO)
        for text in e.msgstr.values()
        if cjk.search(quoted.sub("", text)) and not re.search(r"[A-Za-z]{3}", text)
    ]
    assert not copied, copied[:10]


def test_the_compiled_catalogue_matches_the_po():
    with MO.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog  # the .mo as Django reads it
    stale = []
    for entry in messages(PO):
        msgid = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural is None:
            if catalog.get(msgid) != entry.msgstr[0]:
                stale.append(entry.msgid)
        elif [catalog.get((msgid, i)) for i in sorted(entry.msgstr)] != [entry.msgstr[i] for i in sorted(entry.msgstr)]:
            stale.append(entry.msgid)
    assert not stale, f"django.mo is older than django.po ({len(stale)} differ): run `make messages`. {stale[:5]}"


# --- (b) the catalogue is current with the sources ----------------------------------------------


def _copy_sources(destination: Path) -> None:
    def ignore(directory: str, names: list[str]) -> set[str]:
        return {n for n in names if n in NOT_SOURCES or n.endswith((".pyc", ".sqlite3", ".mo"))}

    shutil.copytree(ROOT, destination, ignore=ignore, symlinks=True)
    (destination / "locale").mkdir()


def test_the_catalogue_has_exactly_the_messages_of_the_sources(tmp_path):
    tools = [tool for tool in ("xgettext", "msguniq", "msgmerge") if shutil.which(tool) is None]
    if tools:
        pytest.skip(f"GNU gettext is not installed ({', '.join(tools)} not found): cannot run makemessages")
    scratch = tmp_path / "repo"
    _copy_sources(scratch)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_SETTINGS"))}
    env.update(DEBUG="1", VAR_DIR=str(tmp_path / "var"), DJANGO_SETTINGS_MODULE="config.settings")
    result = subprocess.run(
        [sys.executable, "manage.py", *MAKEMESSAGES],
        cwd=scratch,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    fresh = {e.key for e in messages(scratch / "locale" / "en" / "LC_MESSAGES" / "django.po")}
    committed = {e.key for e in messages(PO)}
    new = sorted(k[1] for k in fresh - committed)
    gone = sorted(k[1] for k in committed - fresh)
    assert not new and not gone, (
        "locale/en/LC_MESSAGES/django.po is out of date with the sources: run `make messages` and "
        f"translate. Not in the catalogue: {new[:10]}; no longer in the sources: {gone[:10]}"
    )


# --- (c) the pages speak the language asked for -------------------------------------------------


@pytest.fixture
def draft_without_target(people):
    return Story(people).draft(target=None)


def _page(client, url: str, language: str | None = None, *, cookie: bool = False) -> str:
    if language and cookie:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        response = client.get(url)
    elif language:
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    else:
        response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


@pytest.mark.django_db
def test_the_referral_list_is_in_english_when_the_browser_asks_for_it(people, draft_without_target):
    client = login(people.officer)
    english = _page(client, "/referrals/", "en")
    assert '<html lang="en">' in english
    assert "<h1>Petition-to-mediation cases</h1>" in english
    assert "Register a case" in english and "Export ledger" in english
    assert "访调对接案件" not in english and "登记案件" not in english
    chinese = _page(login(people.officer), "/referrals/")
    assert '<html lang="zh-hans">' in chinese
    assert "<h1>访调对接案件</h1>" in chinese and "登记案件" in chinese


@pytest.mark.django_db
def test_the_missing_elements_checklist_and_action_button_follow_the_language_cookie(people, draft_without_target):
    url = f"/referrals/{draft_without_target.pk}/"
    english = _page(login(people.officer), url, "en", cookie=True)
    assert "Still missing:" in english
    assert '<li class="missing">Receiving organisation</li>' in english
    assert '<button type="submit" class="primary">Refer</button>' in english
    assert "尚缺以下要件" not in english and '<li class="missing">接收单位</li>' not in english

    chinese = _page(login(people.officer), url, "zh-hans", cookie=True)
    assert "尚缺以下要件：" in chinese
    assert '<li class="missing">接收单位</li>' in chinese
    assert '<button type="submit" class="primary">移交</button>' in chinese


@pytest.mark.django_db
def test_a_mediators_page_and_the_english_labels_of_choices(people):
    referral = Story(people).submitted()
    english = _page(login(people.mediator), f"/referrals/{referral.pk}/", "en")
    assert '<button type="submit" class="primary">Accept</button>' in english
    assert '<button type="submit" class="primary">Return</button>' in english
    assert "Awaiting acceptance" in english  # the state badge
    assert "Neighbours" in english  # the dispute category of the story's referral
    chinese = _page(login(people.mediator), f"/referrals/{referral.pk}/")
    assert '<button type="submit" class="primary">受理</button>' in chinese and "待受理" in chinese


def test_the_printed_date_format_is_translated():
    from django.utils import translation

    with translation.override("en"):
        assert translation.gettext("Y年n月j日") == "j F Y"
    with translation.override("zh-hans"):
        assert translation.gettext("Y年n月j日") == "Y年n月j日"


# --- (d) nothing user-facing escapes the catalogue ------------------------------------------------

APPS = ("config", "referrals", "mediation", "notifications", "townships")
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_templates_have_no_chinese_outside_translate_tags():
    wrapped = re.compile(
        r"\{%\s*blocktranslate\b.*?\{%\s*endblocktranslate\s*%\}"  # blocktranslate … endblocktranslate
        r"|\{%\s*translate\s+(\"[^\"]*\"|'[^']*').*?%\}"  # {% translate "…" %}
        r"|_\((\"[^\"]*\"|'[^']*')\)"  # _("…") in a filter argument
        r"|\{#.*?#\}|\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}",
        re.S,
    )
    bare = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        for line in wrapped.sub("", path.read_text(encoding="utf-8")).splitlines():
            if CJK.search(line):
                bare.append(f"{path.relative_to(ROOT)}: {line.strip()[:80]}")
    assert not bare, bare


def _translation_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    eager, lazy = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
            for alias in node.names:
                if alias.name in ("gettext", "ngettext", "pgettext", "npgettext"):
                    eager.add(alias.asname or alias.name)
                elif alias.name.endswith("_lazy"):
                    lazy.add(alias.asname or alias.name)
    return eager, lazy


def _calls_at_import_time(node: ast.AST, names: set[str], in_function: bool = False) -> list[int]:
    """Lines where one of ``names`` is called outside any function body (so when the module loads)."""
    lines = []
    for child in ast.iter_child_nodes(node):
        inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        if not inside and isinstance(child, ast.Call) and getattr(child.func, "id", None) in names:
            lines.append(child.lineno)
        lines += _calls_at_import_time(child, names, inside)
    return lines


def test_python_translations_are_visible_to_makemessages_and_translated_per_request():
    # makemessages (xgettext) knows _ and Django's function names only: `gettext_lazy as _lazy` hides
    # its strings. And gettext() run at import time freezes one language for every request.
    known = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}
    problems = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            eager, lazy = _translation_names(tree)
            name = path.relative_to(ROOT)
            problems += [f"{name}: imported as {n}" for n in (eager | lazy) - known]
            problems += [f"{name}:{line}: gettext at import time" for line in _calls_at_import_time(tree, eager)]
    assert not problems, problems
