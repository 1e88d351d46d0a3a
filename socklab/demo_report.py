"""The TCP vs UDP demonstration's outputs: a table, a CSV, a plot, and its invariants."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path

from rich import box
from rich.table import Table

from socklab.demo import LOSS_ON, Row
from socklab.errors import SocklabError

COLUMNS = [
    "loss",
    "proto",
    "cc",
    "delivered",
    "in order",
    "dup",
    "corrupt",
    "retrans",
    "kB/s",
    "model",
    "time",
]
CSV_FIELDS = [
    "loss_pct",
    "loss_on",
    "delay_ms",
    "protocol",
    "cc",
    "unit",
    "sent",
    "delivered",
    "delivered_pct",
    "in_order",
    "in_order_pct",
    "duplicates",
    "corrupted",
    "retransmissions",
    "goodput_kBps",
    "mss",
    "rtt_ms",
    "model_kBps",
    "completion_s",
    "finished",
]
COLORS = {"reno": "tab:blue", "cubic": "tab:green", "bbr": "tab:orange"}  # others: OTHER_COLORS
OTHER_COLORS = ("tab:purple", "tab:brown", "tab:olive", "tab:cyan")


def completion(row: Row) -> str:
    if not row.finished:
        return f"did not finish in {row.timeout_s:g} s"
    return f"{row.completion_s:.2f} s"


def ccs(rows: Sequence[Row]) -> list[str]:
    """The congestion controls TCP used, in the order of the rows."""
    return list(dict.fromkeys(r.cc for r in rows if r.protocol == "TCP"))


def setting(rows: Sequence[Row]) -> str:
    """Where the link lost packets and its delay, in words."""
    first = rows[0] if rows else None
    if first is None:
        return ""
    return f"loss {LOSS_ON[first.loss_on]}" + (f", {first.delay_ms:g} ms each way" if first.delay_ms else "")


def model_inputs(rows: Sequence[Row]) -> str:
    """The MSS and RTT the model used (each TCP row's own), in words."""
    tcp = [r for r in rows if r.protocol == "TCP" and r.mss]
    if not tcp:
        return "no TCP connection measured"
    mss, rtt = sorted({r.mss for r in tcp}), [r.rtt_ms for r in tcp]
    rtts = f"{min(rtt):.1f}" + (f"–{max(rtt):.1f}" if max(rtt) - min(rtt) >= 0.05 else "")
    return f"MSS {'/'.join(map(str, mss))} B, RTT {rtts} ms"


def cells(row: Row) -> list[str]:
    """One table row, as a student reads it."""
    model = row.model_kBps
    return [
        f"{row.loss * 100:g} %",
        row.protocol,
        row.cc or "—",
        f"{row.delivered_pct:.1f} %",
        f"{row.in_order_pct:.1f} %",
        str(row.duplicates),
        str(row.corrupted),
        "—" if row.retransmissions is None else str(row.retransmissions),
        f"{row.goodput_kBps:,.0f}",
        "—" if model is None else f"{model:,.0f}",
        completion(row),
    ]


def table(rows: Sequence[Row]) -> Table:
    title = f"TCP (congestion control {', '.join(ccs(rows))}) vs UDP through the router: {setting(rows)}"
    t = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
        title=title,
        caption="loss: % of packets dropped; cc: TCP's congestion control; delivered, in order: "
        "% of what was sent (TCP counts bytes, UDP datagrams); retrans: TCP segments "
        "the sender's kernel sent again; kB/s: goodput; model: the Mathis model's "
        "goodput for a loss-based TCP, MSS / (RTT·√(2p/3)), with the sender's MSS and "
        f"smallest measured RTT ({model_inputs(rows)}), none for no loss; time: until all "
        "was read (UDP: until its sender finished)",
    )
    for name in COLUMNS:
        t.add_column(
            name,
            justify="left" if name in ("proto", "cc") else "right",
            min_width=len(name) if name != "time" else None,
        )
    for i, row in enumerate(rows):
        style = "cyan" if row.protocol == "TCP" else "magenta"
        last_of_rate = i < len(rows) - 1 and rows[i + 1].loss != row.loss
        t.add_row(*cells(row), style=style, end_section=last_of_rate)
    return t


def csv_text(rows: Sequence[Row]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        model = r.model_kBps
        tcp = r.protocol == "TCP"
        writer.writerow(
            {
                "loss_pct": f"{r.loss * 100:g}",
                "loss_on": r.loss_on,
                "delay_ms": f"{r.delay_ms:g}",
                "protocol": r.protocol,
                "cc": r.cc,
                "unit": r.unit,
                "sent": r.sent,
                "delivered": r.delivered,
                "delivered_pct": f"{r.delivered_pct:.2f}",
                "in_order": r.in_order,
                "in_order_pct": f"{r.in_order_pct:.2f}",
                "duplicates": r.duplicates,
                "corrupted": r.corrupted,
                "retransmissions": "" if r.retransmissions is None else r.retransmissions,
                "goodput_kBps": f"{r.goodput_kBps:.1f}",
                "mss": r.mss if tcp else "",
                "rtt_ms": f"{r.rtt_ms:.2f}" if tcp else "",
                "model_kBps": "" if model is None else f"{model:.1f}",
                "completion_s": f"{r.completion_s:.3f}",
                "finished": str(r.finished).lower(),
            }
        )
    return out.getvalue()


def violations(rows: Sequence[Row], *, z: float = 3.29, require_finished: bool = False) -> list[str]:
    """What contradicts the lesson: TCP delivers every byte it delivers intact and in order
    (all of them, once finished); UDP's delivered fraction is 1 − loss within ``z`` binomial
    standard deviations (a datagram arrives if it passed the client→server direction)."""
    found = []
    for r in rows:
        at = f"{r.protocol} at {r.loss:.0%} loss"
        if r.protocol == "TCP":
            if r.in_order != r.delivered or r.corrupted or r.duplicates:
                found.append(
                    f"{at}: {r.delivered} bytes delivered, {r.in_order} of them in order, "
                    f"{r.corrupted} corrupted, {r.duplicates} duplicated"
                )
            if r.finished and r.delivered != r.sent:
                found.append(f"{at}: finished with {r.delivered} of {r.sent} bytes")
            if require_finished and not r.finished:
                found.append(f"{at}: did not finish in {r.timeout_s:g} s ({r.delivered} bytes)")
        else:
            expected, sd = r.sent * (1 - r.loss), math.sqrt(r.sent * r.loss * (1 - r.loss))
            if abs(r.delivered - expected) > z * sd:
                found.append(
                    f"{at}: {r.delivered} of {r.sent} datagrams delivered, expected "
                    f"{expected:.1f} ± {z * sd:.1f}"
                )
    return found


def series(rows: Sequence[Row]) -> list[tuple[str, list[Row], str, str]]:
    """What the plot draws a line for: (label, rows, color, marker); TCP once per congestion control."""
    out = []
    for i, cc in enumerate(ccs(rows)):
        color = COLORS.get(cc, OTHER_COLORS[i % len(OTHER_COLORS)])
        out.append((f"TCP {cc}", [r for r in rows if r.protocol == "TCP" and r.cc == cc], color, "o"))
    out.append(("UDP", [r for r in rows if r.protocol == "UDP"], "tab:red", "s"))
    return out


def model_line(rows: Sequence[Row]) -> tuple[list[float], list[float]]:
    """The Mathis model at each loss rate it is defined for (the mean over TCP's rows there:
    they differ only in the RTT each connection measured)."""
    at: dict[float, list[float]] = {}
    for r in rows:
        if (model := r.model_kBps) is not None:
            at.setdefault(r.loss * 100, []).append(model)
    losses = sorted(at)
    return losses, [sum(at[x]) / len(at[x]) for x in losses]


def plot(rows: Sequence[Row], path: Path, *, seed: int) -> None:
    """Delivered %, completion time and goodput (with the Mathis model) against loss."""
    try:
        import matplotlib
    except ImportError:
        raise SocklabError("the plot needs matplotlib: pip install matplotlib") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    fig, (ax_d, ax_t, ax_g) = plt.subplots(1, 3, figsize=(14, 4.6), layout="constrained")
    losses = sorted({r.loss * 100 for r in rows})
    ax_d.plot(losses, [100 - x for x in losses], ":", color="grey", label="100 − loss (expected for UDP)")
    for label, mine, color, marker in series(rows):
        x = [r.loss * 100 for r in mine]
        ax_d.plot(x, [r.delivered_pct for r in mine], marker=marker, color=color, label=f"{label} delivered")
        ax_d.plot(
            x,
            [r.in_order_pct for r in mine],
            marker=marker,
            color=color,
            linestyle="--",
            alpha=0.5,
            label=f"{label} delivered in order",
        )
        ax_t.plot(x, [r.completion_s for r in mine], marker=marker, color=color, label=label)
        ax_g.plot(x, [r.goodput_kBps for r in mine], marker=marker, color=color, label=label)
        for r in mine:
            if not r.finished:
                ax_t.annotate(
                    f"did not finish\nin {r.timeout_s:g} s",
                    (r.loss * 100, r.completion_s),
                    textcoords="offset points",
                    xytext=(-60, -30),
                    fontsize=8,
                    color=color,
                    arrowprops={"arrowstyle": "->", "color": color},
                )
    model_x, model_y = model_line(rows)
    if model_x:
        ax_g.plot(
            model_x,
            model_y,
            ":",
            color="black",
            label=f"Mathis model MSS/(RTT·√(2p/3))\n({model_inputs(rows)})",
        )
    where = "loss, client to server (%)" if rows and rows[0].loss_on == "data" else "loss each way (%)"
    ax_d.set(title="How much arrived", xlabel=where, ylabel="delivered (% of sent)", ylim=(0, 105))
    ax_t.set(title="How long it took", xlabel=where, ylabel="completion time (s)", yscale="log")
    ax_g.set(
        title="Useful data per second", xlabel=where, ylabel="goodput (kB/s of in-order data)", yscale="log"
    )
    for ax in (ax_t, ax_g):  # 2000, not 2×10³; between the powers of ten only 2 and 5
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
        ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _pos: f"{v:g}" if f"{v:.0e}"[0] in "25" else ""))
    for ax in (ax_d, ax_t, ax_g):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    sent = next((r.sent for r in rows if r.protocol == "TCP"), 0)
    fig.suptitle(
        f"The same {sent / 1024:g} KiB over TCP (congestion control {', '.join(ccs(rows))}) and "
        f"over UDP through a lossy router: {setting(rows)} (seed {seed})"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def save(rows: Sequence[Row], out: Path, *, seed: int) -> tuple[Path, Path]:
    """Write ``tcp-vs-udp.csv`` and ``tcp-vs-udp.png`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    csv_path, png_path = out / "tcp-vs-udp.csv", out / "tcp-vs-udp.png"
    csv_path.write_text(csv_text(rows))
    plot(rows, png_path, seed=seed)
    return csv_path, png_path
