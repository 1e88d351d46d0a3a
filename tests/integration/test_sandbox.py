"""The sandbox holds: hostile submissions to lab 1 are graded, contained and forgotten.

Each folder in hostile/ is laid over lab 1's solution: a server.py and/or client.py that
attack the platform (its attack.txt says how). Each is graded as `socklab grade` grades,
hidden checks included, a few at a time, and must

- end within BOUND seconds with a verdict on the code: failed with a clear message, or
  passed where the attack leaves the echo alone; never a platform error;
- achieve nothing: what it went for is as socklab set it, shown by the kernel's own
  tables and counters, read in its containers after the verdict, before the teardown;
- leave nothing behind: no container or network of its run, no student process;

and the lab's solution passes again after them all. docs/sandbox.md maps each attack to
what stops it and to the test here that shows it.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from rich.console import Console

from socklab import compose, engine, images, report, runner
from socklab import lab as labs
from socklab.checking import observe
from socklab.checking.programs import OUTPUT_LIMIT, STUDENT, ProgramError
from socklab.grading import formats
from socklab.grading.result import LabResult
from socklab.grading.result import load as load_result

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("built_images")]
LAB = labs.find("1")
HOSTILE = Path(__file__).parent / "hostile"
BOUND = LAB.timeout + 60  # s: the lab's own limit, plus topology and teardown on a loaded machine
WORKERS = 3  # gradings at once: the heavy attacks each take the one CPU their container may use
# Heavy and light interleaved, so that no more than about two heavy ones run at once.
ORDER = [
    "fork-bomb",
    "reads-secrets",
    "writes-everywhere",
    "cpu-spin",
    "kills-everything",
    "changes-network",
    "output-flood",
    "floods-the-probes",
    "fake-report",
    "memory-hog",
    "never-exits",
    "binds-every-port",
]

# What the test reads in a lab host after the verdict: as root, one section per "== name".
LAB_HOST = r"""
echo "== students"; ps -o pid=,args= -u student
echo "== routes"; ip route show
echo "== route-out"; ip route get 192.0.2.1 2>&1
echo "== snmp"; cat /proc/net/snmp
echo "== netstat"; cat /proc/net/netstat
echo "== cgroup"
for f in pids.max pids.peak pids.events memory.max memory.peak memory.events cpu.max cpu.stat \
         pids/pids.max pids/pids.peak pids/pids.events memory/memory.limit_in_bytes \
         memory/memory.max_usage_in_bytes memory/memory.oom_control cpu/cpu.cfs_quota_us \
         cpu/cpu.cfs_period_us cpu/cpu.stat; do
  [ -f /sys/fs/cgroup/$f ] && sed "s|^|$f |" /sys/fs/cgroup/$f
done
echo "== kills"; cat /scratch/kills.txt 2>/dev/null
echo "== flooded"; cat /scratch/flooded.txt 2>/dev/null
echo "== end"
"""
ROUTER = r"""
echo "== routes"; ip route show
echo "== route-out"; ip route get 192.0.2.1 2>&1
echo "== snmp"; cat /proc/net/snmp
echo "== netstat"; cat /proc/net/netstat
echo "== end"
"""


# --- grading, a few at a time ---------------------------------------------------------


@dataclass
class Graded:
    """One hostile submission's grading, and what the test saw of it."""

    name: str
    result: LabResult
    seconds: float
    seen: dict[str, dict[str, str]]  # service -> section -> text, read before the teardown
    leftovers: list[str]  # containers and networks of the run still there afterwards
    code_before: dict[str, str]
    code_after: dict[str, str]
    lowest_memory: int  # the host's lowest MemAvailable during the run, in bytes
    errors: list[str] = field(default_factory=list)  # what went wrong reading the containers

    def log(self, program: str) -> str:
        path = Path(self.result.artifacts) / f"{program}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def check(self, check_id: str):
        return next(c for c in self.result.checks if c.id == check_id)

    def describe(self) -> str:
        lines = [
            f"{self.name}: {self.result.status} {self.result.score:g}/{self.result.max_score:g} "
            f"in {self.seconds:.0f} s {self.result.message}"
        ]
        lines += [
            f"  {c.status:8} {c.id}: {c.message.splitlines()[0] if c.message else ''}"
            for c in self.result.checks
        ]
        return "\n".join([*lines, f"  artifacts: {self.result.artifacts}", *self.errors])


def project_of(result: LabResult) -> str:
    return json.loads((Path(result.artifacts) / "context.json").read_text())["project"]


def sections(text: str) -> dict[str, str]:
    parts = re.split(r"^== (\S+)\n", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def read_host(container: str, script: str) -> dict[str, str]:
    out = subprocess.run(
        ["docker", "exec", container, "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return sections(out.stdout)


def firewall(project: str, service: str) -> dict[str, str]:
    """The service's iptables rules, listed by a throwaway container in its network namespace
    (reading them takes NET_ADMIN, which the lab hosts do not have); labelled with the run."""
    out = subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--network",
            f"container:{project}-{service}",
            "--cap-drop",
            "ALL",
            "--cap-add",
            "NET_ADMIN",
            "--read-only",
            "--label",
            f"{engine.LABEL}=1",
            "--label",
            f"{engine.RUN_LABEL}={project}",
            images.BY_NAME["host"].tag,
            "sh",
            "-c",
            "echo '== filter'; iptables -S; echo '== nat'; iptables -t nat -S; echo '== end'",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return sections(out.stdout)


def inspect(result: LabResult, seen: dict[str, dict[str, str]], errors: list[str]) -> None:
    """What the attack left in the containers: read after the verdict, before the teardown."""
    try:
        project = project_of(result)
        for service in ("client", "server"):
            seen[service] = read_host(f"{project}-{service}", LAB_HOST) | firewall(project, service)
        seen["router"] = read_host(f"{project}-router", ROUTER)
    except Exception as exc:  # reported with the grading, not lost inside the runner
        errors.append(f"reading the containers failed: {exc!r}")


def leftovers(result: LabResult) -> list[str]:
    api = engine.client()
    selector = {"label": [f"{engine.RUN_LABEL}={project_of(result)}"]}
    return [c.name for c in api.containers.list(all=True, filters=selector, ignore_removed=True)] + [
        n.name for n in api.networks.list(filters=selector)
    ]


def tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


class MemoryWatch(threading.Thread):
    """The host's lowest MemAvailable while the block runs."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.lowest = available()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            self.lowest = min(self.lowest, available())

    def __enter__(self) -> MemoryWatch:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.done.set()
        self.join()


def available() -> int:
    meminfo = Path("/proc/meminfo").read_text()
    return int(re.search(r"^MemAvailable:\s+(\d+) kB", meminfo, re.M).group(1)) * 1024


def grade(name: str) -> Graded:
    code = labs.lay_over(LAB.solution, HOSTILE / name)
    before = tree(code)
    seen: dict[str, dict[str, str]] = {}
    errors: list[str] = []
    try:
        start = time.monotonic()
        with MemoryWatch() as memory:
            result = runner.run(LAB, code, hidden=True, show=lambda r: inspect(r, seen, errors))
        seconds = time.monotonic() - start
        after = tree(code)
    finally:
        shutil.rmtree(code)
    return Graded(name, result, seconds, seen, leftovers(result), before, after, memory.lowest, errors)


def hostile_name(item: pytest.Item) -> str | None:
    """test_fork_bomb grades hostile/fork-bomb."""
    if Path(str(item.path)) != Path(__file__):
        return None
    name = item.name.removeprefix("test_").replace("_", "-")
    return name if (HOSTILE / name).is_dir() else None


class Gradings:
    """Every selected hostile submission graded in the background, a few at a time."""

    def __init__(self, names: list[str]) -> None:
        self.pool = ThreadPoolExecutor(WORKERS)
        self.futures: dict[str, Future[Graded]] = {}
        for name in sorted(names, key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER)):
            self.submit(name)

    def submit(self, name: str) -> Future[Graded]:
        if name not in self.futures:
            self.futures[name] = self.pool.submit(grade, name)
        return self.futures[name]

    def __call__(self, name: str) -> Graded:
        graded = self.submit(name).result()
        print(graded.describe())  # shown by pytest when the test fails
        return graded

    def wait_all(self) -> None:
        for future in list(self.futures.values()):
            future.exception()


@pytest.fixture(scope="module")
def graded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOCKLAB_RUNS", str(tmp_path_factory.mktemp("runs")))
        names = {n for n in map(hostile_name, request.session.items) if n}
        gradings = Gradings(sorted(names))
        yield gradings
        gradings.pool.shutdown(wait=True, cancel_futures=True)


# --- what every hostile grading must show --------------------------------------------


def contained(g: Graded) -> None:
    """Bounded, a verdict on the code, nothing left, the results socklab's own."""
    __tracebackhide__ = True
    assert not g.errors, g.describe()
    assert g.seconds < BOUND, f"took {g.seconds:.0f} s, more than {BOUND} s\n{g.describe()}"
    assert g.result.status in ("passed", "failed"), g.describe()
    for check in g.result.checks:
        assert check.status != "error", g.describe()
        assert check.passed or check.message.strip(), f"{check.id} failed without a message"
    assert not g.leftovers, f"left behind: {g.leftovers}"
    for service in ("client", "server"):  # every student process was stopped by the verdict
        assert not g.seen[service]["students"].strip(), g.seen[service]["students"]
    assert g.code_after == g.code_before, "the code under test changed"
    written = load_result(Path(g.result.artifacts) / "result.json")
    assert (written.status, written.score) == (g.result.status, g.result.score)
    checks = json.loads((Path(g.result.artifacts) / "checks.json").read_text())
    assert [(c["id"], c["status"]) for c in checks] == [(c.id, c.status) for c in g.result.checks]


def passed(g: Graded) -> None:
    __tracebackhide__ = True
    contained(g)
    assert g.result.status == "passed" and g.result.score == g.result.max_score, g.describe()


# R9: the client exits 0 once it has printed. A client that hangs or floods after printing
# fails exactly these checks, and the server's checks are not touched.
CLIENT_CHECKS = {c.name for c in LAB.checks() if c.name.startswith("test_client_")}


def only_the_client_failed(g: Graded) -> list:
    """Contained; the server's checks all passed and the client's all failed: the failed checks."""
    __tracebackhide__ = True
    contained(g)
    failed = [c for c in g.result.checks if not c.passed]
    assert CLIENT_CHECKS and {c.id for c in failed} == CLIENT_CHECKS, g.describe()
    return failed


def cgroup(g: Graded, service: str, *files: str) -> list[str]:
    """The lines of a cgroup file of the service (cgroup v2 name or v1 path, whichever exists)."""
    lines = [line.split(" ", 1) for line in g.seen[service]["cgroup"].splitlines()]
    return [rest for name, rest in lines if name in files]


def cgroup_value(g: Graded, service: str, key: str, *files: str) -> int:
    """``key N`` in a cgroup file of the service."""
    values = [int(rest.split()[1]) for rest in cgroup(g, service, *files) if rest.split()[0] == key]
    assert values, f"no {key} in {files} of {service}:\n{g.seen[service]['cgroup']}"
    return values[0]


def cgroup_number(g: Graded, service: str, *files: str) -> int:
    values = cgroup(g, service, *files)
    assert values, f"none of {files} in {service}:\n{g.seen[service]['cgroup']}"
    return int(values[0].split()[0])


def snmp(text: str, table: str, name: str) -> int:
    """A counter from /proc/net/snmp or /proc/net/netstat (a names line, then a values line)."""
    rows = [line.split() for line in text.splitlines() if line.startswith(f"{table}:")]
    return int(rows[1][rows[0].index(name)])


# --- the attacks ----------------------------------------------------------------------


@pytest.mark.slow
def test_fork_bomb(graded):
    """The server's container hits its pids limit and stays there: the checker's commands
    there are retried while refused, and the checker, seeing the refused forks, stops the
    student's programs and fails the check with the reason; the client's check passes."""
    g = graded("fork-bomb")
    contained(g)
    assert g.result.status == "failed", g.describe()
    # How many checks meet the bomb depends on how fast it fills the table against how fast
    # the checks run (a check done before the table fills passes): several do, and every
    # failure says why.
    stopped = [c for c in g.result.checks if "hit its limit of 256 processes" in c.message]
    assert len(stopped) >= 3, g.describe()
    assert all(
        "256 processes" in c.message or "no process to spare" in c.message
        for c in g.result.checks
        if not c.passed
    ), g.describe()
    assert g.check("test_client_prints_reply").passed, g.describe()  # the client is the solution
    limit = cgroup_number(g, "server", "pids.max", "pids/pids.max")
    assert cgroup_value(g, "server", "max", "pids.events", "pids/pids.events") > 0  # forks refused
    # The limit holds forks; `docker exec` moves the checker's commands in even when it is
    # reached (that is the headroom they have), so the peak may pass it by a few.
    assert cgroup_number(g, "server", "pids.peak", "pids/pids.peak") <= limit + 16
    assert limit == 256
    assert cgroup_number(g, "client", "pids.peak", "pids/pids.peak") < 64  # the other side: calm


@pytest.mark.slow
def test_memory_hog(graded):
    """The kernel kills the hogs inside the container's 512 MiB, never a probe; the client
    killed for it fails its check, and says why."""
    g = graded("memory-hog")
    failed = only_the_client_failed(g)
    assert any("went over its memory limit of 512 MiB" in c.message for c in failed), g.describe()
    for service in ("client", "server"):
        limit = cgroup_number(g, service, "memory.max", "memory/memory.limit_in_bytes")
        assert limit == 512 << 20
        assert cgroup_value(g, service, "oom_kill", "memory.events", "memory/memory.oom_control") > 0
        peak = cgroup_number(g, service, "memory.peak", "memory/memory.max_usage_in_bytes")
        assert peak <= limit + (1 << 20), peak  # the kernel may overshoot by a page or so
    assert g.lowest_memory > 1 << 30, "the host ran low on memory"


@pytest.mark.slow
def test_cpu_spin(graded):
    """72 busy threads get the one CPU the container may use (the quota throttles them), at
    nice 19: the checker's probes beside them get the CPU first."""
    g = graded("cpu-spin")
    passed(g)
    for service in ("client", "server"):
        quota = cgroup(g, service, "cpu.max") or [
            " ".join(cgroup(g, service, "cpu/cpu.cfs_quota_us") + cgroup(g, service, "cpu/cpu.cfs_period_us"))
        ]
        assert quota[0].split() == ["100000", "100000"], quota  # one CPU
    assert cgroup_value(g, "server", "nr_throttled", "cpu.stat", "cpu/cpu.stat") > 0


@pytest.mark.slow
def test_never_exits(graded):
    """Programs that ignore SIGTERM and leave detached children are SIGKILLed, children and
    all: the client's run times out and is killed, and nothing of theirs lives on."""
    g = graded("never-exits")
    only_the_client_failed(g)  # it printed its reply, then hung: contained() saw no process left
    assert "timed out" in g.log("client")


@pytest.mark.slow
def test_output_flood(graded):
    """Gigabytes of output are read and dropped inside the container: at most 1 MiB a run
    reaches the host, the checker's logs stay small, and the grading is not slowed."""
    g = graded("output-flood")
    only_the_client_failed(g)  # the client printed its reply, then flooded until killed
    flooded = 0
    for program in ("server", "client"):
        log = g.log(program)
        runs = len(re.findall(r"^--- (start \d+|run):", log, re.M))  # the log keeps every run
        assert len(log.encode()) < runs * (OUTPUT_LIMIT + (64 << 10)), f"{program}.log: {len(log)} B"
        assert log.count("[socklab: output cut here") == runs, log[-300:]
        assert "dropped by the checker" not in log  # nothing past the cap crossed to the host
        flooded += int(g.seen[program]["flooded"] or 0)  # the flood's own tally, last run
    assert flooded > 1 << 30, flooded  # gigabytes


def test_floods_the_probes(graded):
    """An endless stream at the checker's probes is the student's failure, said clearly:
    each probe keeps what it expected and 1 MiB more, then stops reading, so no probe is
    killed for memory (no OOM kill in either container) and no check is a platform error."""
    g = graded("floods-the-probes")
    contained(g)
    assert g.result.status == "failed", g.describe()
    for service in ("client", "server"):
        assert cgroup_value(g, service, "oom_kill", "memory.events", "memory/memory.oom_control") == 0
    messages = "\n".join(c.message for c in g.result.checks if not c.passed)
    assert "stopped reading" in messages, g.describe()
    assert not g.check("test_client_prints_reply").passed, g.describe()


@pytest.mark.slow
def test_writes_everywhere(graded):
    """Every write outside the container's own tmpfs is refused: the code, the probes and the
    results are read-only or not there at all; the results on the host are socklab's."""
    g = graded("writes-everywhere")
    passed(g)
    for program in ("server", "client"):
        log = g.log(program)
        assert "scribble done" in log, log[-2000:]
        wrote = re.findall(r"^WROTE (\S+)", log, re.M)
        assert all(p.startswith(("/scratch/", "/tmp/", "/dev/shm/")) for p in wrote), wrote
        assert "denied /socklab/probe.py: Read-only file system" in log
        assert "denied /lab/code/server.py: Read-only file system" in log
    fake = '"score": 13, "max_score": 13, "tests": []'
    host_places = [Path(g.result.artifacts), compose.PROBES, LAB.path, Path("/autograder"), Path("/grade")]
    for place in host_places:
        for path in place.rglob("*") if place.exists() else []:
            if path.is_file() and path.suffix != ".log":
                assert fake not in path.read_text(errors="replace"), path
    assert not (compose.PROBES / "hostile-was-here").exists()


@pytest.mark.slow
def test_reads_secrets(graded):
    """No checker, hidden check or reference solution is anywhere in the containers: only
    the submission itself and socklab's probes are mounted, and the probes are public."""
    g = graded("reads-secrets")
    passed(g)
    log = g.log("server")
    # The scan may be stopped with the server (the checks are quicker than a whole disk's
    # read, and a loaded machine reads slowly): it reads the likeliest places first and
    # says which it covered. Those at least must have been read through.
    covered = set(re.findall(r"^covered (\S+) ", log, re.M))
    likeliest = {"/proc", "/socklab", "/lab", "/scratch", "/tmp", "/dev/shm", "/root", "/home"}
    assert likeliest <= covered, log[-2000:]
    assert "FOUND" not in log, log


@pytest.mark.slow
def test_kills_everything(graded):
    """kill(-1) and kills of every pid in sight reach only the student's own processes: the
    container's init and the checker's probes run as root and are refused."""
    g = graded("kills-everything")
    passed(g)
    kills = g.seen["server"]["kills"]
    rounds = re.search(r"^rounds (\d+)", kills, re.M)
    assert rounds and int(rounds.group(1)) > 1, kills
    assert re.search(r"^1 denied$", kills, re.M), kills  # the container's init
    assert len(re.findall(r" denied$", kills, re.M)) >= 2, kills


@pytest.mark.slow
def test_binds_every_port(graded):
    """Holding every port does not stop the checker: the check that needs its own test
    server stops the student's programs first, so it passes."""
    g = graded("binds-every-port")
    passed(g)
    bound = sum(int(n) for n in re.findall(r"^bound (\d+) of", g.log("server"), re.M))
    assert bound > 60000, g.log("server")[-2000:]


# images/host/socklab-net-init: nothing leaves for every host of a subnet (issue 13 #2)
BROADCAST_RULES = {
    "-A OUTPUT -d 255.255.255.255/32 -j DROP",
    "-A OUTPUT -m addrtype --dst-type MULTICAST -j DROP",
    "-A OUTPUT -m addrtype --dst-type BROADCAST -j DROP",
}


@pytest.mark.slow
def test_changes_network(graded):
    """Routes, links, addresses, firewall and sysctls are refused (no NET_ADMIN, read-only
    /proc/sys): after the attack the routes and rules are exactly as socklab set them."""
    g = graded("changes-network")
    passed(g)
    for program in ("server", "client"):
        log = g.log(program)
        assert "meddle done" in log and "routes unchanged" in log, log[-3000:]
        assert "CHANGED" not in log, log
    addresses = json.loads((Path(g.result.artifacts) / "context.json").read_text())["addresses"]
    gateways = {addresses["client_gateway"], addresses["server_gateway"]}
    for service in ("client", "server"):
        routes = g.seen[service]["routes"].splitlines()
        assert len(routes) == 2 and not any(r.startswith("default") for r in routes), routes
        rules = {line for line in g.seen[service]["filter"].splitlines() if line.startswith("-A")}
        assert (
            rules
            == {f"-A INPUT -s {gw}/32 -j DROP" for gw in gateways}
            | {f"-A OUTPUT -d {gw}/32 -j REJECT --reject-with icmp-port-unreachable" for gw in gateways}
            | BROADCAST_RULES
        ), g.seen[service]["filter"]
        assert "-P OUTPUT ACCEPT" in g.seen[service]["filter"]  # the default, as it was
        assert "MASQUERADE" not in g.seen[service]["nat"], g.seen[service]["nat"]


@pytest.mark.slow
def test_fake_report(graded):
    """A program's claims are output, never a verdict: the fake report is only quoted as
    evidence, its terminal escapes are defused, and every format carries the real score."""
    g = graded("fake-report")
    contained(g)
    assert g.result.status == "failed" and g.result.score < g.result.max_score / 2, g.describe()
    console = Console(file=io.StringIO(), width=100, force_terminal=False)
    report.show(g.result, console)
    text = console.file.getvalue()
    assert "\x1b" not in text and "\u241b[1A" in text  # shown, not obeyed
    failed = sum(not c.passed for c in g.result.checks)
    assert (
        text.rstrip()
        .splitlines()[-1]
        .startswith(
            f"FAILED ({failed} of {len(g.result.checks)} checks)  "
            f"{g.result.score:g}/{g.result.max_score:g} points"
        )
    ), text[-300:]
    gradescope = json.loads(formats.FORMATS["gradescope"](g.result, formats.DEFAULT_OPTIONS))
    assert sum(t["score"] for t in gradescope["tests"]) == g.result.score
    classroom = json.loads(formats.FORMATS["classroom"](g.result, formats.DEFAULT_OPTIONS))
    assert classroom["status"] == "fail"


# --- the checker's own test server, on a port the student holds ----------------------


def test_a_port_held_by_student_code_is_the_students_failure():
    """When a student's program holds the port a probe server needs, the check fails (the
    student's to fix), with a message that says so; it is not a platform error."""
    with runner.topology(LAB.solution.resolve(), compose.new_project("socklab-test")) as topo:
        holder = subprocess.Popen(
            [
                "docker",
                "exec",
                "-u",
                STUDENT,
                topo.container("server"),
                "python3",
                "-c",
                "import socket, time\ns = socket.create_server(('', 6000))\nprint('held', flush=True)\n"
                "time.sleep(60)",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout.readline().strip() == "held"
            with pytest.raises(ProgramError, match=r"could not listen on port 6000 .*holds it"):
                observe.Server(topo.container("server"), 6000, "hello", timeout=5)
        finally:
            holder.kill()


# --- afterwards ---------------------------------------------------------------------


@pytest.mark.slow
def test_the_solution_passes_after_the_attacks(graded):
    graded.wait_all()
    result = runner.run(LAB, LAB.solution, hidden=True)
    assert result.status == "passed" and result.score == result.max_score, result.message
