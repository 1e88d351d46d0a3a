"""Profiles: the built-in file loads; mistakes are named by file, table and key."""

from pathlib import Path

import pytest

from socklab.impair import profiles
from socklab.impair.model import C2S, UDP, GilbertElliott, Impairment, Match, Rule

BUILTIN = "socklab/impair/profiles.toml"


def test_the_builtin_profiles_exist_and_round_trip() -> None:
    known = profiles.load()
    assert {"clean", "lan", "wifi", "lossy", "satellite", "hostile"} <= set(known)
    for name, prof in known.items():
        assert profiles.from_table(name, profiles.to_table(prof), "x") == prof
    assert known["clean"].rules == ()
    assert known["lossy"].rules[0] == Rule("default", C2S, Match(), Impairment(loss=0.1, delay_ms=10))
    assert known["hostile"].rules[0].match == Match(proto=UDP)


def test_burst_follows_netems_defaults() -> None:
    prof = profiles.from_table("b", {"c2s": {"burst": {"p": 0.1}}}, "x")
    assert prof.rules[0].impair.burst == GilbertElliott(p=0.1, r=0.9, bad_loss=1.0, good_loss=0.0)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"c2s": {"loss": 1.5}}, "[p.c2s] loss must be between 0 and 1, not 1.5"),
        ({"c2s": {"loss": "10%"}}, "[p.c2s] loss must be a number, not '10%'"),
        ({"s2c": {"delay_ms": -1}}, "[p.s2c] delay_ms must be between 0 and 600000, not -1"),
        ({"c2s": {"los": 0.1}}, "[p.c2s] unknown key 'los'; known keys: loss, burst,"),
        ({"c2s": {"keep_order": 1}}, "[p.c2s] keep_order must be true or false, not 1"),
        ({"c2s": {"jitter": "gauss"}}, "[p.c2s] jitter must be one of uniform, normal, pareto, not 'gauss'"),
        ({"c2s": {"rate_queue": 2.5}}, "[p.c2s] rate_queue must be an integer, not 2.5"),
        ({"c2s": {"loss": 0.1, "burst": {"p": 0.1}}}, "[p.c2s] give loss or burst, not both"),
        ({"c2s": {"burst": {"r": 0.1}}}, "[p.c2s.burst] p (the probability of moving"),
        (
            {"c2s": {"burst": {"p": 0.1, "h": 0.5}}},
            "[p.c2s.burst] unknown key 'h'; known keys: p, r, 1-h, 1-k",
        ),
        ({"c2s": {"reorder": 0.1}}, "[p.c2s] reorder needs delay_ms above 0"),
        ({"both": {}}, "[p] unknown key 'both'; known keys: description, c2s, s2c, flows, script"),
        ({"flows": {"name": "x"}}, "[p] flows must be an array of tables ([[p.flows]])"),
        ({"flows": [{"proto": "udp"}]}, "[p.flows[1]] name must be a unique, non-empty string"),
        ({"flows": [{"name": "a", "direction": "up"}]}, "[p.flows[1]] direction must be one of"),
        ({"flows": [{"name": "a", "port": 70000}]}, "[p.flows[1]] port must be between 1 and 65535"),
        (
            {"flows": [{"name": "a", "proto": "sctp"}]},
            "[p.flows[1]] proto must be one of icmp, tcp, udp, not 'sctp'",
        ),
        ({"script": [{"name": "s", "nth": 3}]}, "[p.script[1]] action is required"),
        ({"script": [{"name": "s", "action": "drop"}]}, "[p.script[1]] give exactly one of nth"),
        ({"script": [{"name": "s", "action": "drop", "nth": 1, "every": 2}]}, "exactly one of"),
        ({"script": [{"name": "s", "action": "delay", "nth": 1}]}, "a delay script needs delay_ms"),
        ({"script": [{"name": "s", "action": "drop", "nth": [1, 0]}]}, "nth must be at least 1"),
        (
            {"script": [{"name": "s", "action": "drop", "nth": 1, "packet": "syn-ack"}]},
            "packet must be one of any, data, syn, synack, fin, rst, ack, not 'syn-ack'",
        ),
        (
            {"flows": [{"name": "a"}], "script": [{"name": "a", "action": "drop", "nth": 1}]},
            "[p.script[1]] name must be a unique",
        ),
    ],
)
def test_mistakes_are_named_by_file_table_and_key(table: dict, message: str) -> None:
    with pytest.raises(ValueError) as info:
        profiles.from_table("p", table, BUILTIN)
    assert str(info.value).startswith(f"{BUILTIN}: ")
    assert message in str(info.value)


def test_a_profiles_file_is_read_with_its_path_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text("[slow.c2s]\ndelay_ms = 100\n[bad.c2s]\nloss = 2\n")
    with pytest.raises(ValueError, match=rf"^{path}: \[bad.c2s\] loss must be between 0 and 1"):
        profiles.load(path)
    path.write_text("[slow.c2s]\ndelay_ms = 100\n")
    assert profiles.get("slow", path).rules[0].impair.delay_ms == 100
    with pytest.raises(ValueError, match=rf"^{path}: no profile named 'fast'; known: slow$"):
        profiles.get("fast", path)


def test_unreadable_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"missing\.toml: cannot be read"):
        profiles.load(tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_text("[a\n")
    with pytest.raises(ValueError, match=r"bad\.toml: is not valid TOML"):
        profiles.load(tmp_path / "bad.toml")


def test_scripts_and_flows_round_trip() -> None:
    table = {
        "flows": [{"name": "web", "direction": "s2c", "proto": "tcp", "sport": 80, "loss": 0.1}],
        "script": [
            {
                "name": "tenth",
                "direction": "c2s",
                "proto": "udp",
                "action": "duplicate",
                "packet": "data",
                "per": "direction",
                "every": 10,
            },
            {
                "name": "flip",
                "direction": "both",
                "action": "corrupt",
                "packet": "any",
                "per": "flow",
                "nth": [2, 3],
                "corrupt_mode": "undetected",
                "byte": 0,
                "bit": 7,
            },
        ],
    }
    prof = profiles.from_table("p", table, "x")
    assert profiles.to_table(prof) == table
