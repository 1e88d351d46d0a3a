"""Lab 5 checker: an echo server that serves many clients at once.

The clients are socklab's probe in the client container: one selector drives them all,
through the router, to the student's server. What the server holds (open files,
threads, zombies, CPU time) is read from /proc in the server container. Every check
after the first two starts the server afresh, so no check inherits another's clients.
The helpers are in crowd_probe.py.
"""


import crowd_probe as tools
import pytest

from socklab.checking import expect, observe
from socklab.i18n import _

CROWD = 50  # clients at once
STALLED_CROWD = 10  # clients that must get through while one client stalls
HELD = 5  # silent clients while the CPU is measured
IDLE_WAKEUPS = 4  # a second, at most: a server that blocks makes none; a poll every 0.1 s, 10
IDLE_WINDOW = 5.5  # seconds of watching the server while its clients are silent: longer than
# the 5 s idle timeouts programs set (R3: a silent client is never dropped)
IDLE_BUSY = 0.25  # the part of that window it may spend running or ready to run: a busy
# loop spends all of it (if the machine is loaded, mostly waiting for a CPU), a waiting server none
ROUND = 20  # clients per round of the resource check, served and closed ...
RESETS = 5  # ... and this many more that reset their connection


@pytest.mark.points(1)
@pytest.mark.rules("R1")
def test_server_listens(programs, server, ctx):
    """The server listens on TCP port PORT, on every address: 5000, then a seeded other one"""
    expect.listening_on_the_port_given(programs, server, tools.PORT, ctx.seed)


@pytest.mark.points(1)
@pytest.mark.rules("R2")
def test_echo_one_client(ctx, programs):
    """One client alone: 1 MiB of random bytes comes back unchanged"""
    programs.ensure("server")
    seen = observe.tcp_echo(ctx.container("client"), "server", tools.PORT,
                            f"random:1048576:{ctx.seed}", timeout=20)
    expect.echoed(seen, _("1 MiB of random bytes"))


@pytest.mark.points(2)
@pytest.mark.rules("R2", "R3")
def test_slow_reader_gets_every_byte(fresh_server, slow_reader, ctx):
    """A client that reads its echo slowly gets every byte back, then the server's close"""
    tools.slow_echoed(slow_reader(2 * 2**20), _("a client that sends 2 MiB at once, closes its sending "
                                                "side, and reads the echo through a 4 KiB window, "
                                                "pausing 0.3 s three times (seed {seed})").format(
                                                    seed=ctx.seed))


@pytest.mark.points(3)
@pytest.mark.rules("R2", "R3", "R4")
def test_fifty_clients_at_once(fresh_server, crowd, ctx):
    """50 clients connected at once are all served"""
    tools.all_served(crowd(CROWD), _("while all {count} are connected at once (each sends its own "
                                     "message, 1 byte to 64 KiB + 1 (seed {seed}), in 3 pieces, "
                                     "waiting for each echo, and stays connected until all are "
                                     "served)").format(count=CROWD, seed=ctx.seed))


@pytest.mark.points(2)
@pytest.mark.rules("R5", "R3")
def test_silent_client_does_not_block_others(fresh_server, crowd):
    """A client that connects and says nothing does not hold up the others"""
    seen = crowd(STALLED_CROWD, stall="silent")
    tools.stall_in_place(seen, "connected", _("a client connected first, and silent"))
    tools.all_served(seen, _("while one more client, connected first, says nothing"))
    tools.still_open(seen["stall"], _("the silent client"))


@pytest.mark.points(2)
@pytest.mark.rules("R5", "R3")
def test_paused_client_does_not_block_others(fresh_server, crowd):
    """A client that pauses mid-conversation does not hold up the others"""
    seen = crowd(STALLED_CROWD, stall="paused")
    tools.stall_in_place(seen, "served", _("a client connected first that sends 7 bytes and gets them "
                                           "back"))
    tools.all_served(seen, _("while one more client, after 7 bytes, pauses without closing"))
    tools.still_open(seen["stall"], _("the paused client"))


@pytest.mark.points(2)
@pytest.mark.rules("R6")
def test_slow_reader_does_not_block_others(fresh_server, crowd, ctx):
    """A client that sends without ever reading the echo does not hold up the others, nor
    make the server store all it sends"""
    before = observe.student_memory(ctx.container("server"))
    seen = crowd(STALLED_CROWD, stall="flood")
    tools.stall_in_place(seen, "connected", _("a client connected first that sends as long as the "
                                              "server takes its bytes"))
    tools.all_served(seen, _("while one more client sends and sends, but never reads the echo"))
    growth, which = observe.memory_growth(ctx.container("server"), before)
    tools.memory_bounded(growth, which, seen["stall"]["sent"])


@pytest.mark.points(2)
@pytest.mark.rules("R7", "R3")
def test_no_busy_waiting(fresh_server, hold, usage):
    """With every client silent, the server waits without burning CPU (and keeps them)"""
    holder = hold(HELD)
    tools.all_served(holder.held, _("(16 bytes each)"), done="held")
    seen = usage(IDLE_WINDOW)
    busy = seen["cpu_s"] + (seen["waiting_s"] or 0)
    if busy > IDLE_BUSY * seen["window_s"]:
        expect.fail(_("your server idle while its {held} clients are connected and silent: waiting in "
                      "accept(), recv() or select() takes no CPU (at most {busy:.0%} of the time "
                      "running or ready to run)").format(held=HELD, busy=IDLE_BUSY),
                    _("running or ready to run {busy:.2f} s of {window:.2f} s ({share:.0%}; {cpu:.2f} s on "
                      "a CPU), summed over your server's threads and processes, from /proc: a loop "
                      "that never blocks").format(busy=busy, window=seen["window_s"],
                                                  share=busy / seen["window_s"], cpu=seen["cpu_s"]))
    # a loop that blocks for a moment (select() with a short timeout, a socket timeout,
    # sleep()) takes little CPU, but it still wakes up again and again to look: a server
    # that waits for something to happen is not switched in while nothing does
    if seen.get("switches", 0) > IDLE_WAKEUPS * seen["window_s"]:
        expect.fail(_("your server idle while its {held} clients are connected and silent: blocked in "
                      "accept(), recv() or select() until something happens, not waking up to look "
                      "(at most {wakeups} wake-ups a second)").format(held=HELD, wakeups=IDLE_WAKEUPS),
                    _("{switches} wake-ups in {window:.2f} s, summed over your server's threads and "
                      "processes (context switches, from /proc): a polling loop (a timeout or a sleep "
                      "of a fraction of a second)").format(switches=seen["switches"],
                                                          window=seen["window_s"]))
    tools.kept_until_they_left(holder.release(), IDLE_WINDOW)


@pytest.mark.points(2)
@pytest.mark.rules("R8", "R9")
def test_resources_released(fresh_server, crowd, usage):
    """Clients that leave, closing or resetting, leave no open sockets, threads or zombies behind"""
    tools.all_served(crowd(RESETS, pieces=1),
                     _("(the {count} clients before the counting starts)").format(count=RESETS),
                     done="echoed")
    before = usage()
    threads = None
    rounds = ((_("(the first round; {resets} more clients reset their connection)"),
               _("the first {count} clients")),
              (_("(the second round; {resets} more clients reset their connection)"),
               _("the second {count} clients")))
    for situation, who in rounds:
        tools.all_served(crowd(ROUND + RESETS, reset=RESETS), situation.format(resets=RESETS),
                         done="echoed")
        after = tools.settle(usage, lambda u, t=threads: tools.released(u, before, t))
        tools.expect_released(after, before, threads, who.format(count=ROUND + RESETS))
        threads = after["threads"]
