"""The demo's congestion control: parsing --cc, what the kernel allows, the Mathis model."""

from __future__ import annotations

import math

import pytest

from socklab import congestion
from socklab.errors import SocklabError

HERE = congestion.Kernel("bbr", ("reno", "bbr"), ("reno", "bbr", "cubic"))  # this project's machines


def test_parse_takes_a_comma_list_once_each():
    assert congestion.parse("reno") == ("reno",)
    assert congestion.parse("Reno, bbr,reno") == ("reno", "bbr")
    for bad in ("", ",", "reno;bbr", "tcp reno", "1x"):
        with pytest.raises(SocklabError, match="--cc takes"):
            congestion.parse(bad)


def test_an_allowed_algorithm_is_usable():
    assert congestion.unusable("reno", HERE) is None
    congestion.check(("reno", "bbr"), HERE)


def test_a_loaded_but_not_allowed_one_says_how_to_allow_it():
    text = congestion.unusable("cubic", HERE)
    assert text is not None
    assert "'cubic' is loaded in this kernel but not allowed for unprivileged sockets" in text
    assert "(allowed: reno, bbr)" in text and "on the Docker host" in text
    assert text.endswith('sudo sysctl -w net.ipv4.tcp_allowed_congestion_control="reno bbr cubic"')
    assert "modprobe" not in text


def test_a_missing_one_says_how_to_load_and_allow_it():
    text = congestion.unusable("vegas", HERE)
    assert text is not None
    assert (
        "'vegas' is not in this kernel (available: reno, bbr, cubic; allowed for unprivileged "
        "sockets: reno, bbr)" in text
    )
    assert text.endswith(
        'sudo modprobe tcp_vegas && sudo sysctl -w net.ipv4.tcp_allowed_congestion_control="reno bbr vegas"'
    )


def test_check_names_every_unusable_one_as_a_usage_error():
    with pytest.raises(SocklabError) as caught:
        congestion.check(("reno", "cubic", "vegas"), HERE)
    assert caught.value.exit_code == 2
    assert [line.split("'")[1] for line in str(caught.value).splitlines()] == ["cubic", "vegas"]


def test_describe_says_what_the_kernel_offers():
    assert HERE.describe() == (
        "congestion control in this kernel: default bbr; any socket may choose "
        "reno, bbr; loaded, but only for privileged sockets: cubic"
    )
    assert "privileged" not in congestion.Kernel("cubic", ("reno", "cubic"), ("reno", "cubic")).describe()
    probe = {"default": "bbr", "allowed": ["reno", "bbr"], "available": ["reno", "bbr", "cubic"]}
    assert congestion.Kernel.from_probe(probe) == HERE


def test_mathis_model():
    # 1448-byte segments, 20 ms, 1 %: 1448 / (0.02 · sqrt(0.02 / 3)) ≈ 886.7 kB/s
    assert congestion.mathis(1448, 0.020, 0.01) == pytest.approx(886_700, rel=1e-3)
    base = congestion.mathis(1000, 0.1, 0.01)
    assert base == pytest.approx(1000 / 0.1 * math.sqrt(1.5) / 0.1)
    assert congestion.mathis(1000, 0.1, 0.04) == pytest.approx(base / 2)  # 1/sqrt(p)
    assert congestion.mathis(1000, 0.2, 0.01) == pytest.approx(base / 2)  # 1/RTT
    assert congestion.mathis(2000, 0.1, 0.01) == pytest.approx(base * 2)  # MSS


def test_mathis_model_is_undefined_without_loss_or_a_path():
    assert congestion.mathis(1448, 0.02, 0) is None
    assert congestion.mathis(0, 0.02, 0.01) is None  # no connection, no MSS
    assert congestion.mathis(1448, 0, 0.01) is None
