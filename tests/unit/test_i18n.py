"""What a student reads comes in Chinese when asked, and in English otherwise (no Docker).

The catalog is complete (every string and every check title has a translation), up to
date with the code (re-extracted with Babel), compiled (the committed .mo says what the
.po says), and keeps each placeholder; a real result renders in Chinese or English, and
the machine formats (JSON, JUnit) read the same in both.
"""

from __future__ import annotations

import ast
import gettext
import io
import json
import re
import sys
from pathlib import Path, PurePosixPath

import pytest
import yaml
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from rich.console import Console

from socklab import i18n, report
from socklab import lab as labs
from socklab.classroom import ci, export, store
from socklab.cli import parser
from socklab.grading import feedback, formats
from socklab.grading.result import load

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "socklab" / "locale"
POT = LOCALE / "socklab.pot"
PO = LOCALE / "zh_CN" / "LC_MESSAGES" / "socklab.po"
# (Babel config, template, Chinese catalog): socklab's, and the hidden checks' titles
CATALOGS = [
    ("babel.cfg", POT, PO),
    (
        "babel-hidden.cfg",
        ROOT / "locale" / "socklab-hidden.pot",
        ROOT / "locale" / "zh_CN" / "LC_MESSAGES" / "socklab-hidden.po",
    ),
]
each_catalog = pytest.mark.parametrize(("cfg", "pot", "po"), CATALOGS, ids=["socklab", "hidden"])
RESULT = Path(__file__).parent / "data" / "result-01-failed.json"  # a real run of lab 1
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%[sdrf]")


def catalog(path: Path):
    with path.open("rb") as f:
        return read_po(f)


def messages(path: Path) -> list:
    return [m for m in catalog(path) if m.id]


@each_catalog
def test_every_string_has_a_chinese_translation(cfg, pot, po):
    translated = catalog(po)
    missing = []
    for m in messages(pot):
        found = translated.get(m.id, context=m.context)
        strings = found.string if found else ""
        if not found or found.fuzzy or not all(strings if isinstance(strings, tuple) else (strings,)):
            missing.append((m.context, m.id))
    assert not missing, f"untranslated in {po.name} (make i18n, then translate): {missing}"


def _checks() -> list[tuple[str, str]]:
    found = []
    for folder in labs.folders():
        paths = [*(folder / "checker").glob("test_*.py"), *(folder / "hidden").glob("test_*.py")]
        for path in sorted(paths):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                    found.append((node.name, i18n.check_title(node)))
    return found


def test_every_check_title_and_lab_title_has_one():
    checks = _checks()
    assert len(checks) > 100
    with i18n.using("zh_CN"):
        untranslated = [c for c in checks if i18n.title(*c) == c[1]]
        titles = [labs.load(f).title for f in labs.folders()]
        untranslated += [t for t in titles if i18n.pgettext("lab title", t) == t]
    assert not untranslated


@each_catalog
def test_the_template_is_up_to_date_with_the_code(cfg, pot, po):
    with (ROOT / cfg).open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    extracted = {
        (context, msgid if isinstance(msgid, str) else msgid[0])
        for _file, _line, msgid, _comments, context in extract_from_dir(ROOT, method_map, options_map)
    }
    in_pot = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in messages(pot)}
    assert extracted == in_pot, f"run make i18n: {pot.name} is not the code's strings"


@each_catalog
def test_the_compiled_catalog_is_up_to_date_with_the_po(cfg, pot, po):
    with po.with_suffix(".mo").open("rb") as f:
        compiled = {k: v for k, v in gettext.GNUTranslations(f)._catalog.items() if k}  # type: ignore[attr-defined]
    expected = {}
    for m in messages(po):
        msgid = m.id if isinstance(m.id, str) else m.id[0]
        key = f"{m.context}\x04{msgid}" if m.context else msgid
        if isinstance(m.id, tuple):
            for n, s in enumerate(m.string):
                expected[(key, n)] = s
        else:
            expected[key] = m.string
    assert compiled == expected, f"run make i18n: the .mo is older than {po.name}"


@each_catalog
def test_every_translation_keeps_the_placeholders(cfg, pot, po):
    wrong = []
    for m in messages(po):
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        want = sorted(PLACEHOLDER.findall(ids[-1]))
        wrong += [(m.id, s) for s in strings if sorted(PLACEHOLDER.findall(s)) != want]
    assert not wrong


def test_the_language_comes_from_the_option_the_variable_or_the_locale(monkeypatch):
    monkeypatch.delenv("SOCKLAB_LANG", raising=False)
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert i18n._load(None).gettext("timed out") == "超时"
    monkeypatch.setenv("LANG", "C")
    assert i18n._load(None).gettext("timed out") == "timed out"
    monkeypatch.setenv("SOCKLAB_LANG", "zh-CN")
    assert i18n._load(None).gettext("timed out") == "超时"
    assert i18n._load("en").gettext("timed out") == "timed out"  # --lang wins
    assert i18n._load("fr_FR").gettext("timed out") == "timed out"  # no catalog: English
    assert i18n.normalize("zh_cn.UTF-8") == i18n.normalize("zh-CN") == "zh_CN"


def test_lang_is_an_option_of_the_commands_that_report():
    for argv in (["run", "1"], ["grade", "1", "code"], ["grade-all", "1", "subs"], ["doctor"]):
        assert parser().parse_args([*argv, "--lang", "zh_CN"]).lang == "zh_CN"


def _text(result, lang: str | None) -> str:
    console = Console(file=io.StringIO(), record=True, width=100)
    with i18n.using(lang):
        report.show(result, console)
    return console.export_text()


def test_a_real_result_reads_in_chinese_or_in_english():
    result = load(RESULT)
    zh, en = _text(result, "zh_CN"), _text(result, None)
    assert "实验 01-tcp-echo：TCP 回声" in zh and "单个字节能回显回来" in zh
    assert "未通过（14 项检查中 14 项未通过）" in zh and "得分 0/20" in zh
    assert not any(word in en for word in ("实验", "未通过", "得分", "复现", "回声"))  # (the data has 数据包)
    assert "lab 01-tcp-echo: TCP echo" in en and "FAILED (14 of 14 checks)" in en
    for check in result.checks:  # ids, numbers and rule ids stay as they are
        assert check.number in zh and check.reproduce.split()[-1] in zh
    with i18n.using("zh_CN"):
        page = store.html_report(result, "student")
    assert "TCP 回声" in page and "单个字节能回显回来" in page


def test_machine_formats_read_the_same_in_every_language():
    result = load(RESULT)
    hidden = formats.FormatOptions(withhold_hidden_feedback=True)
    for fmt in ("json", "junit"):
        for options in (formats.DEFAULT_OPTIONS, hidden):
            with i18n.using("zh_CN"):
                zh = formats.FORMATS[fmt](result, options)
            with i18n.using(None):
                en = formats.FORMATS[fmt](result, options)
            assert zh == en, fmt


def test_feedback_for_students_follows_the_language():
    result = load(RESULT)
    check = result.checks[0]
    with i18n.using("zh_CN"):
        text = feedback.text(check, result, formats.DEFAULT_OPTIONS)
    assert "网络损伤：网络配置 clean，随机种子 1" in text and "复现：make lab-1" in text


def test_github_job_summary_and_classroom_tests_follow_the_language():
    result = load(RESULT)
    with i18n.using("zh_CN"):
        table, runner = formats.summary(result), formats.classroom(result)
    assert "| # | 检查 | 状态 | 分数 | 期望 / 实际 |" in table and "❌ 未通过" in table
    assert "**得分 0 / 20**" in table and "单个字节能回显回来" in table  # the check titles too
    names = [test["name"] for test in json.loads(runner)["tests"]]
    assert any(name.endswith(" 分)") for name in names)  # "(2 分)": the points of each test
    with i18n.using(None):
        assert "| # | Check | Status | Points | Expected / observed |" in formats.summary(result)


def test_the_chinese_template_points_at_the_chinese_readmes_and_grades_in_chinese(tmp_path):
    lab = labs.find("1")
    export.export(tmp_path, [lab], lang="zh-CN")
    readme = (tmp_path / "README.md").read_text()
    assert "labs/01-tcp-echo/README.zh-CN.md" in readme and "TCP 回声" in readme
    assert (tmp_path / "labs/01-tcp-echo/README.zh-CN.md").is_file()
    workflow = yaml.safe_load((tmp_path / ci.GITHUB).read_text())
    assert workflow["jobs"]["run-autograding-tests"]["env"]["SOCKLAB_LANG"] == "zh_CN"
    gitlab = yaml.safe_load((tmp_path / ci.GITLAB).read_text())
    assert gitlab[".grade"]["variables"]["SOCKLAB_LANG"] == "zh_CN"
    assert "SOCKLAB_LANG" not in ci.github([lab]) + ci.gitlab([lab])  # English: as before


def test_the_makefile_passes_lang_only_from_its_command_line():
    makefile = (ROOT / "Makefile").read_text()
    assert "$(filter command line,$(origin LANG))" in makefile
    assert sys.version_info >= (3, 11)


def test_a_checker_run_in_chinese_says_expected_and_observed_in_chinese(pytester):
    pytester.makepyfile(
        test_checks='''
import time
import pytest

@pytest.mark.points(1)
def test_wrong():
    """Echoes every byte"""
    from socklab.checking import expect
    expect.fail("1", "2")

@pytest.mark.points(1)
@pytest.mark.timeout(0.3)
def test_slow():
    time.sleep(5)
'''
    )
    out = pytester.path / "results.json"
    with i18n.using("zh_CN"):
        pytester.runpytest_inprocess("-p", "socklab.checking.plugin", "--socklab-result", str(out))
    results = {r["id"]: r for r in json.loads(out.read_text())}
    assert results["test_wrong"]["message"] == "期望：1\n实际：2"
    assert results["test_slow"]["message"] == "0.3 秒后超时"
    assert results["test_wrong"]["title"] == "Echoes every byte"  # translated when shown, by id


def test_the_hidden_titles_stay_with_the_instructor():
    assert not export.shipped(PurePosixPath("locale/zh_CN/LC_MESSAGES/socklab-hidden.mo"))
    assert "256 KiB" not in PO.read_text()


def test_the_cli_speaks_the_language_a_student_chose(monkeypatch, capsys):
    from socklab import cli
    from socklab.errors import PlatformError

    def broken(_args):
        raise PlatformError("no such image")

    monkeypatch.setitem(cli.COMMANDS, "labs", broken)
    with i18n.using("zh_CN"):
        assert cli.main(["labs"]) == 2
        assert cli.main(["run", "99"]) == 2
    err = capsys.readouterr().err
    assert "no such image\n（`socklab doctor` 或 `make doctor` 会告诉你这台机器缺什么、怎样解决）" in err
    assert "没有实验 '99'" in err
    monkeypatch.undo()
    with i18n.using("zh_CN"):
        assert cli.main(["labs"]) == 0
    assert re.search(r"TCP 回声（\d+ 分）", capsys.readouterr().out)


# --- the checkers' own words: what a check says when it fails ---------------------------

CHECKER_FILES = sorted(p for p in (ROOT / "labs").glob("*/*/*.py") if p.parent.name in ("checker", "hidden"))
GETTEXT = {"_", "N_", "ngettext", "pgettext"}
# Calls whose string arguments no student reads as socklab's words: commands and probe
# arguments, patterns, file contents, test parameters, keys.
MACHINE = {
    "run", "check_output", "probe", "exec_run", "Popen", "compile", "match", "search", "fullmatch",
    "parametrize", "write_text", "write_bytes", "encode", "dumps", "getenv", "get", "startswith",
    "endswith", "split", "replace", "format_exc", "debug", "info", "warning",
}  # fmt: skip
NOT_SHOWN = "# not shown"  # on a literal's first line: no reader sees it (a name, a command)
WORDS = re.compile(r"[A-Za-z]{2,}")


def _called(node: ast.Call) -> str:
    return node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")


def _prose_outside_gettext(path: Path) -> list[str]:
    """String literals and f-strings that read as English prose (three words or more) and are
    neither docstrings, nor in a gettext call, nor arguments of a MACHINE call."""
    source = path.read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            skip.add(id(body[0].value))  # a docstring (or a bare string: no reader)
        inside = []
        if isinstance(node, ast.Call) and (_called(node) in GETTEXT | MACHINE):
            inside = [*node.args, *(k.value for k in node.keywords)]
        elif isinstance(node, ast.JoinedStr):
            inside = node.values
        elif isinstance(node, ast.Dict):
            inside = [k for k in node.keys if k is not None]
        elif isinstance(node, ast.Subscript):
            inside = [node.slice]
        elif isinstance(node, ast.Compare):
            inside = [node.left, *node.comparators]
        for child in inside:
            skip.update(id(n) for n in ast.walk(child) if n is not node)
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        else:
            continue
        if len(WORDS.findall(text)) >= 3 and " " in text and NOT_SHOWN not in lines[node.lineno - 1]:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {text[:60]!r}")
    return found


def test_what_a_checker_says_is_in_the_catalog():
    """Every message a check can fail with is written _("... {name} ...").format(name=...),
    so make i18n extracts it and the reader gets it in their language; a literal no student
    sees (a command, a file's content) says so with NOT_SHOWN on its line."""
    assert len(CHECKER_FILES) > 30
    found = [line for path in CHECKER_FILES for line in _prose_outside_gettext(path)]
    assert not found, f"{len(found)} texts a student may read are not translatable:\n" + "\n".join(found)


def _format_calls(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"
            and isinstance(node.func.value, ast.Call)
            and _called(node.func.value) == "_"
            and node.func.value.args
            and isinstance(node.func.value.args[0], ast.Constant)
        ):
            yield node.lineno, node.func.value.args[0].value, node


def test_every_translated_text_is_given_exactly_its_placeholders():
    """_("{a} of {b}").format(a=...) with b forgotten fails only when that check fails, in
    one language: caught here for every message of socklab's and of the checkers'."""
    import string

    wrong = []
    for path in [*sorted((ROOT / "socklab").rglob("*.py")), *CHECKER_FILES]:
        for line, text, call in _format_calls(path):
            if call.args or any(k.arg is None for k in call.keywords):
                continue  # positional or **mapping: not checked here
            parsed = string.Formatter().parse(text)
            fields = {name.split(".")[0].split("[")[0] for _t, name, _s, _c in parsed if name}
            given = {k.arg for k in call.keywords}
            if fields != given:
                where = f"{path.relative_to(ROOT)}:{line}"
                wrong.append(f"{where}: {sorted(fields)} named, {sorted(given)} given")
    assert not wrong, "\n".join(wrong)


def test_a_probes_fixed_phrase_is_read_in_the_readers_language():
    """The probes (stdlib, in the containers) say a few fixed phrases in English; a checker
    lists them and expect.said gives the reader theirs, anything else as it is."""
    from socklab.checking import expect

    words = [(re.compile(r"nothing more from the server for (?P<seconds>\S+) s"),
              "nothing more from the server for {seconds} s")]  # fmt: skip
    with i18n.using("zh_CN"):
        shown = expect.said("nothing more from the server for 10 s", words)
    assert shown != "nothing more from the server for 10 s" and "10" in shown
    other = "ECONNRESET (Connection reset by peer)"
    assert expect.said(other, words) == other
    assert expect.said(None, words) is None
