"""Ladder diagrams of a connection captured on the router: text for the report, SVG to view.

The client is on the left, the server on the right, time runs down; one arrow per segment,
in the order the router received them. Sequence and acknowledgement numbers count from
each side's initial sequence number (0 is the SYN), as Wireshark shows them. A segment
the router dropped stops at an ``x`` halfway.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from conversation import Connection, Segment, late, name, retransmission

from socklab.i18n import _

WIDTH = 44  # characters between the two lifelines: a ladder with its notes fits 80 columns


def label(conn: Connection, seg: Segment) -> str:
    seq, ack = conn.relative(seg)
    text = f"{name(seg)} seq={seq}"
    if seg.has("."):
        text += f" ack={ack}"
    return text + (f" len={seg.length}" if seg.length else "")


def notes(conn: Connection, seg: Segment) -> str:
    said = []
    if retransmission(conn, seg):
        said.append(_("retransmission"))
    if seg.dropped:
        said.append(_("dropped"))
    if late(conn, seg):
        said.append(_("after the close"))
    if seg.length:
        preview = seg.payload[:14].decode("ascii", "replace").encode("unicode_escape").decode()
        said.append(f'"{preview}"' + ("..." if seg.length > 14 else ""))
    return ", ".join(said)


def arrow(conn: Connection, seg: Segment) -> str:
    """The row between the lifelines: ``|--- label --->|``, or stopped at an x if dropped."""
    text = f" {label(conn, seg)} "
    if not seg.dropped:
        body = text.center(WIDTH - 1, "-")
        return f"|{body}>|" if seg.way == "c2s" else f"|<{body}|"
    dashes = max(3, min(WIDTH // 2, WIDTH - len(text) - 1))
    room = WIDTH - dashes - 1
    if seg.way == "c2s":
        return f"|{'-' * (dashes - 1)}x{text[:room].ljust(room)}|"
    return f"|{text[:room].rjust(room)}x{'-' * (dashes - 1)}|"


def text(conn: Connection, title: str = "") -> str:
    """The connection as a text ladder, one segment per line."""
    start = conn.segments[0].t_in if conn.segments else 0.0
    client, server = f"{conn.client[0]}:{conn.client[1]}", f"{conn.server[0]}:{conn.server[1]}"
    lines = [title] if title else []
    lines += [f"{'ms':>8}  {'client'.ljust(WIDTH + 2 - len('server'))}server",
              f"{'':8}  {client.ljust(WIDTH + 2 - len(server))}{server}"]
    for seg in conn.segments:
        note = notes(conn, seg)
        lines.append(f"{(seg.t_in - start) * 1000:8.1f}  {arrow(conn, seg)}"
                     + (f" {note}" if note else ""))
    return "\n".join(lines)


def legend(conns: Sequence[Connection] = ()) -> str:
    """How to read the ladders (and, if one shows it, what a reset after the close is)."""
    if any(late(conn, seg) for conn in conns for seg in conn.segments):
        return _("(captured on the router: ms from the first segment it received; seq and ack\n"
                 " counted from each side's SYN; x = dropped by the router;\n RST after the close: "
                 "a late duplicate reached a side that had already closed\n and forgotten the "
                 "connection; harmless)")
    return _("(captured on the router: ms from the first segment it received; seq and ack\n"
             " counted from each side's SYN; x = dropped by the router)")


ROW, TOP, LEFT, RIGHT = 30, 70, 150, 610
COLORS = {"seg": "#333333", "syn": "#1565c0", "fin": "#2e7d32", "rst": "#c62828"}


def _svg_connection(conn: Connection, title: str, y0: int) -> tuple[list[str], int]:
    start = conn.segments[0].t_in if conn.segments else 0.0
    middle = (LEFT + RIGHT) // 2
    end = y0 + TOP + ROW * len(conn.segments)
    out = [f'<text x="10" y="{y0 + 20}" class="title">{escape(title)}</text>',  # not shown
           f'<text x="{LEFT}" y="{y0 + 45}" text-anchor="middle">client '  # not shown
           f'{escape(conn.client[0])}:{conn.client[1]}</text>',
           f'<text x="{RIGHT}" y="{y0 + 45}" text-anchor="middle">server '  # not shown
           f'{escape(conn.server[0])}:{conn.server[1]}</text>',
           f'<text x="{middle}" y="{y0 + 45}" text-anchor="middle" class="note">router</text>',  # not shown
           f'<line x1="{LEFT}" y1="{y0 + 52}" x2="{LEFT}" y2="{end}" class="life"/>',  # not shown
           f'<line x1="{RIGHT}" y1="{y0 + 52}" x2="{RIGHT}" y2="{end}" class="life"/>',  # not shown
           f'<line x1="{middle}" y1="{y0 + 52}" x2="{middle}" y2="{end}" class="router"/>']  # not shown
    for i, seg in enumerate(conn.segments):
        y = y0 + TOP + ROW * i
        x1, x2 = (LEFT, RIGHT) if seg.way == "c2s" else (RIGHT, LEFT)
        kind = "rst" if seg.has("R") else "syn" if seg.has("S") else "fin" if seg.has("F") else "seg"
        ms = (seg.t_in - start) * 1000
        out.append(f'<text x="10" y="{y + 4}" class="note">{ms:.1f} ms</text>')  # not shown
        out.append(f'<text x="{middle}" y="{y - 5}" text-anchor="middle" class="t-{kind} label">'  # not shown
                   f'{escape(label(conn, seg))}</text>')
        if seg.dropped:
            out.append(f'<line x1="{x1}" y1="{y}" x2="{middle}" y2="{y}"'  # not shown
                       f' class="l-{kind} lost"/>')
            out.append(f'<text x="{middle}" y="{y + 6}" text-anchor="middle" class="x">x</text>')  # not shown
        else:
            out.append(f'<line x1="{x1}" y1="{y}" x2="{x2}" y2="{y}" class="l-{kind}" '  # not shown
                       f'marker-end="url(#{kind})"/>')
        if note := notes(conn, seg):
            out.append(f'<text x="{RIGHT + 12}" y="{y + 4}" class="note">{escape(note)}</text>')  # not shown
    return out, end + 20


def svg(ladders: list[tuple[str, Connection]]) -> str:
    """All the ladders, one under the other, as one SVG document."""
    body, y = [], 0
    for title, conn in ladders:
        part, y = _svg_connection(conn, title, y)
        body += part
    conns = [conn for _, conn in ladders]
    for line in legend(conns).splitlines():
        y += 16
        body.append(f'<text x="10" y="{y}" class="note">{escape(line.strip())}</text>')  # not shown
    y += 14
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="980" height="{max(y, 40)}" '  # not shown
        f'font-family="monospace" font-size="12">',
        "<style>.title{font-weight:bold}.label{paint-order:stroke;stroke:#fff;stroke-width:4px}"  # not shown
        ".note{fill:#666}.life{stroke:#000;stroke-width:2}"
        ".router{stroke:#ccc;stroke-dasharray:4 4}.lost{stroke-dasharray:6 3}"
        + "".join(f".l-{kind}{{stroke:{color}}}.t-{kind}{{fill:{color}}}" for kind, color in COLORS.items()) +
        ".x{fill:#c62828;font-size:18px;font-weight:bold}</style>",
        "<defs>", *(f'<marker id="{kind}" markerWidth="10" markerHeight="8" refX="9" refY="4" '  # not shown
                    f'orient="auto"><path d="M0,0 L10,4 L0,8 z" fill="{color}"/></marker>'
                    for kind, color in COLORS.items()), "</defs>",
        '<rect width="100%" height="100%" fill="white"/>',  # not shown
        *body, "</svg>", ""])
