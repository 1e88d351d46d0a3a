"""Load and validate impairment profiles (TOML tables) into ``model.Profile``.

Errors are ``ValueError`` naming the file and the table:
``socklab/impair/profiles.toml: [lossy.c2s] loss must be between 0 and 1, not 1.5``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from socklab.impair.model import (
    ACTIONS,
    CORRUPT_MODES,
    DIRECTIONS,
    JITTERS,
    KINDS,
    PROTO_NAMES,
    PROTOCOLS,
    GilbertElliott,
    Impairment,
    Match,
    Profile,
    Rule,
    Script,
)

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10 (Ubuntu 22.04): the backport, a dependency there
    import tomli as tomllib  # type: ignore[no-redef]

BUILTIN = Path(__file__).resolve().parent / "profiles.toml"
BUILTIN_LABEL = "socklab/impair/profiles.toml"
DEFAULT_RULE = "default"  # the name of the [NAME.c2s] and [NAME.s2c] rules


def _number(lo: float, hi: float = math.inf, integer: bool = False) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        kinds = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise ValueError(f"must be {'an integer' if integer else 'a number'}, not {value!r}")
        if not lo <= value <= hi:
            span = f"at least {lo:g}" if hi == math.inf else f"between {lo:g} and {hi:g}"
            raise ValueError(f"must be {span}, not {value!r}")
        return value

    return check


def _choice(options: tuple[str, ...] | Mapping[str, Any]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}, not {value!r}")
        return value

    return check


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, not {value!r}")
    return value


def _positions(value: Any) -> tuple[int, ...]:
    items = value if isinstance(value, list) else [value]
    return tuple(_number(1, integer=True)(v) for v in items)


_probability = _number(0, 1)
_port = _number(1, 65535, integer=True)
# One validator per key: the profile format as a table (h11's style), not an if chain.
IMPAIRMENT_KEYS: dict[str, Callable[[Any], Any]] = {
    "loss": _probability,
    "burst": lambda v: v,
    "delay_ms": _number(0, 600_000),
    "jitter_ms": _number(0, 600_000),
    "jitter": _choice(JITTERS),
    "keep_order": _boolean,
    "reorder": _probability,
    "reorder_gap": _number(1, integer=True),
    "duplicate": _probability,
    "corrupt": _probability,
    "corrupt_mode": _choice(CORRUPT_MODES),
    "rate_kbit": _number(0),
    "rate_queue": _number(1, integer=True),
}
MATCH_KEYS: dict[str, Callable[[Any], Any]] = {
    "proto": _choice(PROTOCOLS),
    "port": _port,
    "sport": _port,
    "dport": _port,
}
SCRIPT_KEYS: dict[str, Callable[[Any], Any]] = {
    "action": _choice(ACTIONS),
    "packet": _choice(KINDS),
    "nth": _positions,
    "every": _number(1, integer=True),
    "per": _choice(("flow", "direction")),
    "delay_ms": _number(0, 600_000),
    "corrupt_mode": _choice(CORRUPT_MODES),
    "byte": _number(0, integer=True),
    "bit": _number(0, 7, integer=True),
    "length": _number(0, 65535, integer=True),
}
BURST_KEYS = {"p": "p", "r": "r", "1-h": "bad_loss", "1-k": "good_loss"}


class _Where:
    """Where in which file a table sits, to put in front of every message about it."""

    def __init__(self, source: str, table: str) -> None:
        self.source, self.table = source, table

    def error(self, message: str) -> ValueError:
        return ValueError(f"{self.source}: [{self.table}] {message}")

    def values(
        self, table: Any, schema: Mapping[str, Callable[[Any], Any]], extra: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        if not isinstance(table, dict):
            raise self.error(f"must be a table, not {table!r}")
        out = {}
        for key, value in table.items():
            if key in extra:
                continue
            if key not in schema:
                raise self.error(f"unknown key {key!r}; known keys: {', '.join([*schema, *extra])}")
            try:
                out[key] = schema[key](value)
            except ValueError as exc:
                raise self.error(f"{key} {exc}") from None
        return out


def _impairment(values: dict[str, Any], where: _Where) -> Impairment:
    if "burst" in values:
        if "loss" in values:
            raise where.error("give loss or burst, not both")
        values["burst"] = _burst(values["burst"], _Where(where.source, f"{where.table}.burst"))
    if values.get("reorder", 0) > 0 and values.get("delay_ms", 0) <= 0:
        raise where.error(
            "reorder needs delay_ms above 0: a packet is reordered by passing the delayed ones before it"
        )
    return Impairment(**values)


def _burst(table: Any, where: _Where) -> GilbertElliott:
    values = where.values(table, dict.fromkeys(BURST_KEYS, _probability))
    if "p" not in values:
        raise where.error("p (the probability of moving to the bad state) is required")
    values.setdefault("r", 1 - values["p"])  # netem's default
    return GilbertElliott(**{BURST_KEYS[k]: v for k, v in values.items()})


def _match(values: dict[str, Any]) -> Match:
    proto = values.pop("proto", None)
    found = {k: values.pop(k) for k in ("port", "sport", "dport") if k in values}
    return Match(proto=PROTOCOLS[proto] if proto else None, **found)


def _name(entry: Any, where: _Where, taken: set[str]) -> str:
    name = entry.get("name") if isinstance(entry, dict) else None
    if not isinstance(name, str) or not name or name == DEFAULT_RULE or name in taken:
        raise where.error(
            f"name must be a unique, non-empty string other than {DEFAULT_RULE!r}, not {name!r}"
        )
    taken.add(name)
    return name


def _direction(entry: dict[str, Any], where: _Where) -> str:
    direction = entry.get("direction", "both")
    if direction not in (*DIRECTIONS, "both"):
        raise where.error(f"direction must be one of c2s, s2c, both, not {direction!r}")
    return direction


def _flow(entry: Any, where: _Where, taken: set[str]) -> Rule:
    name = _name(entry, where, taken)
    direction = _direction(entry, where)
    values = where.values(entry, {**IMPAIRMENT_KEYS, **MATCH_KEYS}, ("name", "direction"))
    return Rule(name, direction, _match(values), _impairment(values, where))


def _script(entry: Any, where: _Where, taken: set[str]) -> Script:
    name = _name(entry, where, taken)
    direction = _direction(entry, where)
    values = where.values(entry, {**SCRIPT_KEYS, **MATCH_KEYS}, ("name", "direction"))
    if "action" not in values:
        raise where.error(f"action is required: one of {', '.join(ACTIONS)}")
    if ("nth" in values) == ("every" in values):
        raise where.error("give exactly one of nth (a number or a list) and every")
    if values["action"] == "delay" and "delay_ms" not in values:
        raise where.error("a delay script needs delay_ms")
    if "packet" in values:
        values["kind"] = values.pop("packet")
    match = _match(values)
    return Script(name=name, direction=direction, match=match, **values)


def from_table(name: str, table: Any, source: str) -> Profile:
    """Build the profile ``name`` from its TOML table; ``source`` names the file in errors."""
    where = _Where(source, name)
    parts = ("description", *DIRECTIONS, "flows", "script")
    if not isinstance(table, dict):
        raise where.error(f"must be a table, not {table!r}")
    unknown = sorted(set(table) - set(parts))
    if unknown:
        raise where.error(f"unknown key {unknown[0]!r}; known keys: {', '.join(parts)}")
    description = table.get("description", "")
    if not isinstance(description, str):
        raise where.error(f"description must be a string, not {description!r}")
    rules: list[Rule] = []
    scripts: list[Script] = []
    taken: set[str] = set()
    parts_of: tuple[tuple[str, Callable[[Any, _Where, set[str]], Any], list[Any]], ...] = (
        ("flows", _flow, rules),
        ("script", _script, scripts),
    )
    for key, build, out in parts_of:
        entries = table.get(key, [])
        if not isinstance(entries, list):
            raise where.error(f"{key} must be an array of tables ([[{name}.{key}]]), not {entries!r}")
        for i, entry in enumerate(entries, 1):
            out.append(build(entry, _Where(source, f"{name}.{key}[{i}]"), taken))
    for direction in DIRECTIONS:
        if direction in table:
            sub = _Where(source, f"{name}.{direction}")
            imp = _impairment(sub.values(table[direction], IMPAIRMENT_KEYS), sub)
            rules.append(Rule(DEFAULT_RULE, direction, Match(), imp))
    return Profile(name, description, tuple(rules), tuple(scripts))


def load(path: Path | None = None) -> dict[str, Profile]:
    """Every profile in ``path`` (the built-in file by default), by name."""
    label = BUILTIN_LABEL if path is None else str(path)
    try:
        text = (path or BUILTIN).read_text(encoding="utf-8")
        tables = tomllib.loads(text)
    except OSError as exc:
        raise ValueError(f"{label}: cannot be read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{label}: is not valid TOML: {exc}") from None
    return {name: from_table(name, table, label) for name, table in tables.items()}


def get(name: str, path: Path | None = None) -> Profile:
    """The profile called ``name``, or a ValueError that lists the known ones."""
    known = load(path)
    if name not in known:
        label = BUILTIN_LABEL if path is None else str(path)
        raise ValueError(f"{label}: no profile named {name!r}; known: {', '.join(known)}")
    return known[name]


def to_table(profile: Profile) -> dict[str, Any]:
    """The profile as the TOML table it came from (defaults left out): for show and set."""
    table: dict[str, Any] = {"description": profile.description} if profile.description else {}
    for rule in profile.rules:
        values = _impairment_table(rule.impair)
        if rule.name == DEFAULT_RULE:
            table[rule.direction] = values
        else:
            entry = {"name": rule.name, "direction": rule.direction, **_match_table(rule.match), **values}
            table.setdefault("flows", []).append(entry)
    for script in profile.scripts:
        entry = {
            "name": script.name,
            "direction": script.direction,
            **_match_table(script.match),
            "action": script.action,
            "packet": script.kind,
            "per": script.per,
        }
        entry.update({"nth": list(script.nth)} if script.nth else {"every": script.every})
        defaults = {f.name: f.default for f in fields(Script)}
        for key in ("delay_ms", "corrupt_mode", "byte", "bit", "length"):
            if getattr(script, key) != defaults[key]:
                entry[key] = getattr(script, key)
        table.setdefault("script", []).append(entry)
    return table


def _impairment_table(imp: Impairment) -> dict[str, Any]:
    default = Impairment()
    out = {
        f.name: getattr(imp, f.name) for f in fields(imp) if getattr(imp, f.name) != getattr(default, f.name)
    }
    if imp.burst is not None:
        out["burst"] = {k: getattr(imp.burst, attr) for k, attr in BURST_KEYS.items()}
    return out


def _match_table(match: Match) -> dict[str, Any]:
    out: dict[str, Any] = {"proto": PROTO_NAMES[match.proto]} if match.proto else {}
    out.update({k: getattr(match, k) for k in ("port", "sport", "dport") if getattr(match, k) is not None})
    return out
