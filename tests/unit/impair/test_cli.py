"""The command line, the iptables rule we own, and the control socket end to end (no root)."""

import os
import selectors
import signal
import threading
from pathlib import Path

import pytest

from socklab.impair import control, iptables, profiles
from socklab.impair.__main__ import _stop_on_signals, main

from .test_engine import engine


def test_list_prints_every_profile(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert names == list(profiles.load())


def test_errors_exit_2_with_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["--profile", "nope"]) == 2
    assert capsys.readouterr().err == (
        "socklab-impair: error: socklab/impair/profiles.toml: no profile named 'nope'; "
        f"known: {', '.join(profiles.load())}\n"
    )
    assert main(["--profile", "lossy", "--client-net", ""]) == 2
    assert "give --client-net or set SOCKLAB_CLIENT_SUBNET" in capsys.readouterr().err
    assert main(["--profile", "lossy", "--client-net", "10.0.0.300/24"]) == 2
    assert "--client-net must be an IPv4 subnet, not '10.0.0.300/24'" in capsys.readouterr().err


def test_only_our_rules_are_found_for_removal() -> None:
    listing = (
        "-P FORWARD ACCEPT\n"
        "-A FORWARD -m comment --comment socklab-impair -j NFQUEUE --queue-num 0\n"
        '-A FORWARD -m comment --comment "someone else" -j ACCEPT\n'
        "-A FORWARD -j NFQUEUE --queue-num 3\n"
    )
    assert iptables.ours(listing) == [
        ["FORWARD", "-m", "comment", "--comment", "socklab-impair", "-j", "NFQUEUE", "--queue-num", "0"]
    ]
    assert iptables.rule(2)[-2:] == ["--queue-num", "2"]
    assert "--queue-bypass" not in iptables.rule(0)


def test_control_socket_answers_one_line_per_request(tmp_path: Path) -> None:
    eng, _wire, _clock = engine(profiles.get("lossy"))
    selector = selectors.DefaultSelector()
    path = str(tmp_path / "impair.sock")
    server = control.Server(eng, path, selector)
    done = threading.Event()

    def loop() -> None:
        while not done.is_set():
            for key, _ in selector.select(0.05):
                key.data()

    thread = threading.Thread(target=loop)
    thread.start()
    try:
        assert control.request(path, {"cmd": "show"})["profile"] == "lossy"
        assert control.request(path, {"cmd": "set", "profile": "wifi"})["version"] == 2
        assert control.main([path, "stats"]) == 0
        assert control.main([path, "set", '{"profile": "nope"}']) == 1
    finally:
        done.set()
        thread.join()
        server.close()
    assert not Path(path).exists()


def test_sigterm_ends_the_loop_and_the_handlers_are_put_back() -> None:
    eng, _wire, _clock = engine(profiles.get("clean"))
    selector = selectors.DefaultSelector()
    before = signal.getsignal(signal.SIGTERM)
    with _stop_on_signals(eng, selector):
        os.kill(os.getpid(), signal.SIGTERM)
        assert eng.stopping
        assert selector.select(0)  # the wakeup socket interrupts a waiting select()
    assert signal.getsignal(signal.SIGTERM) is before
    assert signal.set_wakeup_fd(-1) == -1
