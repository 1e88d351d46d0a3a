"""The TCP vs UDP demonstration's outputs: a table, a CSV, a plot, and its invariants."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path

from rich import box
from rich.table import Table

from socklab.demo import Row
from socklab.errors import SocklabError

COLUMNS = ["loss", "proto", "delivered", "in order", "dup", "corrupt", "retrans", "kB/s", "time"]
CSV_FIELDS = ["loss_pct", "delay_ms", "protocol", "unit", "sent", "delivered", "delivered_pct",
              "in_order", "in_order_pct", "duplicates", "corrupted", "retransmissions",
              "goodput_kBps", "completion_s", "finished"]


def completion(row: Row) -> str:
    if not row.finished:
        return f"did not finish in {row.timeout_s:g} s"
    return f"{row.completion_s:.2f} s"


def cells(row: Row) -> list[str]:
    """One table row, as a student reads it."""
    return [f"{row.loss * 100:g} %", row.protocol, f"{row.delivered_pct:.1f} %", f"{row.in_order_pct:.1f} %",
            str(row.duplicates), str(row.corrupted),
            "—" if row.retransmissions is None else str(row.retransmissions),
            f"{row.goodput_kBps:,.0f}", completion(row)]


def table(rows: Sequence[Row]) -> Table:
    delay = rows[0].delay_ms if rows else 0
    title = "TCP vs UDP through the router" + (f" ({delay:g} ms each way)" if delay else "")
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True, title=title,
              caption="loss: % in each direction; delivered, in order: % of what was sent (TCP counts "
                      "bytes, UDP datagrams); retrans: TCP segments the sender's kernel sent again; "
                      "kB/s: goodput; time: until all was read (UDP: until its sender finished)")
    for name in COLUMNS:
        t.add_column(name, justify="left" if name == "proto" else "right",
                     min_width=len(name) if name != "time" else None)
    for i, row in enumerate(rows):
        style = "cyan" if row.protocol == "TCP" else "magenta"
        t.add_row(*cells(row), style=style, end_section=i % 2 == 1 and i < len(rows) - 1)
    return t


def csv_text(rows: Sequence[Row]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({
            "loss_pct": f"{r.loss * 100:g}", "delay_ms": f"{r.delay_ms:g}", "protocol": r.protocol,
            "unit": r.unit, "sent": r.sent, "delivered": r.delivered,
            "delivered_pct": f"{r.delivered_pct:.2f}", "in_order": r.in_order,
            "in_order_pct": f"{r.in_order_pct:.2f}", "duplicates": r.duplicates,
            "corrupted": r.corrupted,
            "retransmissions": "" if r.retransmissions is None else r.retransmissions,
            "goodput_kBps": f"{r.goodput_kBps:.1f}", "completion_s": f"{r.completion_s:.3f}",
            "finished": str(r.finished).lower()})
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
                found.append(f"{at}: {r.delivered} bytes delivered, {r.in_order} of them in order, "
                             f"{r.corrupted} corrupted, {r.duplicates} duplicated")
            if r.finished and r.delivered != r.sent:
                found.append(f"{at}: finished with {r.delivered} of {r.sent} bytes")
            if require_finished and not r.finished:
                found.append(f"{at}: did not finish in {r.timeout_s:g} s ({r.delivered} bytes)")
        else:
            expected, sd = r.sent * (1 - r.loss), math.sqrt(r.sent * r.loss * (1 - r.loss))
            if abs(r.delivered - expected) > z * sd:
                found.append(f"{at}: {r.delivered} of {r.sent} datagrams delivered, expected "
                             f"{expected:.1f} ± {z * sd:.1f}")
    return found


def plot(rows: Sequence[Row], path: Path, *, seed: int) -> None:
    """Delivered %, completion time and goodput against loss, TCP and UDP side by side."""
    try:
        import matplotlib
    except ImportError:
        raise SocklabError("the plot needs matplotlib: pip install matplotlib") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_d, ax_t, ax_g) = plt.subplots(1, 3, figsize=(14, 4.4), layout="constrained")
    losses = sorted({r.loss * 100 for r in rows})
    ax_d.plot(losses, [100 - x for x in losses], ":", color="grey", label="100 − loss (expected for UDP)")
    for proto, color, marker in (("TCP", "tab:blue", "o"), ("UDP", "tab:red", "s")):
        mine = [r for r in rows if r.protocol == proto]
        x = [r.loss * 100 for r in mine]
        ax_d.plot(x, [r.delivered_pct for r in mine], marker=marker, color=color,
                  label=f"{proto} delivered")
        ax_d.plot(x, [r.in_order_pct for r in mine], marker=marker, color=color, linestyle="--",
                  alpha=0.5, label=f"{proto} delivered in order")
        ax_t.plot(x, [r.completion_s for r in mine], marker=marker, color=color, label=proto)
        ax_g.plot(x, [r.goodput_kBps for r in mine], marker=marker, color=color, label=proto)
        for r in mine:
            if not r.finished:
                ax_t.annotate(f"did not finish\nin {r.timeout_s:g} s", (r.loss * 100, r.completion_s),
                              textcoords="offset points", xytext=(-60, -30), fontsize=8, color=color,
                              arrowprops={"arrowstyle": "->", "color": color})
    ax_d.set(title="How much arrived", xlabel="loss each way (%)", ylabel="delivered (% of sent)",
             ylim=(0, 105))
    ax_t.set(title="How long it took", xlabel="loss each way (%)", ylabel="completion time (s)",
             yscale="log")
    ax_g.set(title="Useful data per second", xlabel="loss each way (%)",
             ylabel="goodput (kB/s of in-order data)", ylim=(0, None))
    for ax in (ax_d, ax_t, ax_g):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    sent = next((r.sent for r in rows if r.protocol == "TCP"), 0)
    delay = rows[0].delay_ms if rows else 0
    fig.suptitle(f"The same {sent / 1024:g} KiB over TCP and over UDP through a lossy router"
                 + (f", {delay:g} ms each way" if delay else "") + f" (seed {seed})")
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
