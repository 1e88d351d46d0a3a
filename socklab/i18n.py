"""The language of what a student reads: gettext catalogs in ``socklab/locale``.

The language is ``--lang`` (which sets ``SOCKLAB_LANG`` so the checker's process follows),
else ``SOCKLAB_LANG``, else the locale (``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``).
English is the default and the fallback for any string without a translation. Only human
text is translated: check ids, rule numbers, JSON keys and JUnit names stay English, so a
gradebook does not change with the language.

Check titles stay English in the checkers; the catalog holds each title with its check id
as the context (``pgettext(check_id, title)``), extracted by ``extract_checker`` below with
the messages of the checks' failures; those
of hidden checks are in ``locale/`` at the top of the checkout, which students never get.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import functools
import gettext
import io
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, ParamSpec, TypeVar

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DOMAIN = "socklab"
LOCALE_DIR = Path(__file__).parent / "locale"
# The titles of hidden checks: in the instructor's checkout only (export-student leaves
# locale/ out, as it leaves hidden/ out), a fallback of the catalog above.
HIDDEN_DOMAIN = "socklab-hidden"
HIDDEN_DIR = Path(__file__).resolve().parent.parent / "locale"
ENV = "SOCKLAB_LANG"

_current: gettext.NullTranslations | None = None
P = ParamSpec("P")
R = TypeVar("R")


def normalize(lang: str) -> str:
    """``zh-CN``, ``zh_cn.UTF-8`` and ``zh_CN`` name the same catalog."""
    code = lang.split(".")[0].split("@")[0].replace("-", "_")
    base, _sep, region = code.partition("_")
    return f"{base.lower()}_{region.upper()}" if region else base.lower()


def _load(lang: str | None) -> gettext.NullTranslations:
    lang = lang or os.environ.get(ENV) or None
    languages = [normalize(lang)] if lang else None  # None: gettext reads the locale variables
    found = gettext.translation(DOMAIN, LOCALE_DIR, languages=languages, fallback=True)
    hidden = gettext.translation(HIDDEN_DOMAIN, HIDDEN_DIR, languages=languages, fallback=True)
    if isinstance(hidden, gettext.GNUTranslations):
        found.add_fallback(hidden)
    return found


def set_language(lang: str | None) -> None:
    """Use ``lang`` from now on, in this process and the ones it starts (the checker)."""
    global _current
    if lang:
        os.environ[ENV] = normalize(lang)
    _current = _load(lang)


def translation() -> gettext.NullTranslations:
    global _current
    if _current is None:
        _current = _load(None)
    return _current


def _(message: str) -> str:
    return translation().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translation().ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return translation().pgettext(context, message)


def title(check_id: str, text: str) -> str:
    """A check's title in the reader's language (a parametrized check shares its function's)."""
    return pgettext(check_id.split("[")[0], text)


@contextmanager
def using(lang: str | None) -> Iterator[None]:
    """``lang`` for a while, in this process only (``None``: English)."""
    global _current
    saved, _current = _current, _load(lang) if lang else gettext.NullTranslations()
    try:
        yield
    finally:
        _current = saved


def english() -> contextlib.AbstractContextManager[None]:
    """English whatever the language: for the machine formats (JSON, JUnit)."""
    return using(None)


def in_english(render: Callable[P, R]) -> Callable[P, R]:
    """``render`` always in English: a machine format reads the same in every language."""

    @functools.wraps(render)
    def rendered(*args: P.args, **kwargs: P.kwargs) -> R:
        with english():
            return render(*args, **kwargs)

    return rendered


def check_title(function: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """The title the checker plugin gives a check: its docstring's first line, else its name."""
    doc = ast.get_docstring(function, clean=False)
    return doc.strip().splitlines()[0] if doc else function.name.removeprefix("test_").replace("_", " ")


def extract_checker(fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any) -> Iterator[Any]:
    """A Babel extractor (babel.cfg) for a checker's files: the titles of its checks, keyed
    by check id, and the messages its failures say (``_()`` and friends, as in socklab)."""
    from babel.messages.extract import extract_python  # make i18n's, not a student's

    source = fileobj.read()
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_"):
            yield node.lineno, "pgettext", (node.name, check_title(node)), []
    yield from extract_python(io.BytesIO(source), keywords, comment_tags, options)


def extract_lab_title(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, tuple[str, str], list[str]]]:
    """A Babel extractor (babel.cfg) for a lab's title in its lab.toml."""
    title = tomllib.load(fileobj).get("lab", {}).get("title")
    if title:
        yield 1, "pgettext", ("lab title", title), []


def N_(message: str) -> str:
    """Marks ``message`` for the catalog where it is defined; ``_()`` translates it when shown."""
    return message


def language() -> str:
    """The language of the catalog in use (``zh_CN``), or ``en`` where none is."""
    return translation().info().get("language", "en") or "en"


def localized(readme: Path) -> Path:
    """``README.zh-CN.md`` beside ``readme`` when the language is Chinese and it exists."""
    lang = language()
    if lang == "en":
        return readme
    other = readme.with_name(f"{readme.stem}.{lang.replace('_', '-')}{readme.suffix}")
    return other if other.is_file() else readme


def language_arg(parser: argparse.ArgumentParser) -> None:
    """``--lang`` on a command whose report a student reads."""
    parser.add_argument(
        "--lang", help=f"the report's language, e.g. zh_CN (default: ${ENV}, else the locale, else English)"
    )
