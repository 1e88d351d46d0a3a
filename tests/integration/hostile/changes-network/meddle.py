"""Try to change routes, links, addresses, the firewall and forwarding; print each outcome."""

import subprocess


def routes() -> list[str]:
    return subprocess.run(["ip", "route", "show"], capture_output=True, text=True).stdout.splitlines()


def attempts() -> list[list[str]]:
    via = next((r.split()[2] for r in routes() if " via " in r), "127.0.0.1")
    return [
        ["ip", "route", "add", "default", "via", via],
        ["ip", "route", "replace", "192.0.2.0/24", "via", via],
        *(["ip", "route", "del", *r.split()] for r in routes()),
        ["ip", "route", "flush", "table", "main"],
        ["ip", "link", "set", "eth0", "down"],
        ["ip", "link", "add", "hostile0", "type", "dummy"],
        ["ip", "addr", "add", "192.0.2.99/24", "dev", "eth0"],
        ["ip", "neigh", "add", "192.0.2.1", "lladdr", "02:00:00:00:00:01", "dev", "eth0"],
        ["iptables", "-F"],
        ["iptables", "-P", "OUTPUT", "ACCEPT"],
        ["iptables", "-I", "OUTPUT", "-j", "ACCEPT"],
        ["iptables", "-t", "nat", "-A", "POSTROUTING", "-j", "MASQUERADE"],
        ["nft", "flush", "ruleset"],
        ["tc", "qdisc", "add", "dev", "eth0", "root", "tbf", "rate", "1kbit", "burst", "1k", "latency", "1s"],
        ["sysctl", "-w", "net.ipv4.ip_forward=1"],
        ["sysctl", "-w", "net.ipv6.conf.all.disable_ipv6=0"],
    ]


def meddle() -> None:
    before = routes()
    for argv in attempts():
        out = subprocess.run(argv, capture_output=True, text=True)
        why = (out.stderr.strip().splitlines() or ["no message"])[-1]
        print(f"{'CHANGED' if out.returncode == 0 else 'refused'} {' '.join(argv)}: {why}", flush=True)
    after = routes()
    print("routes unchanged" if after == before else f"ROUTES CHANGED: {before} -> {after}", flush=True)
    print("meddle done", flush=True)
