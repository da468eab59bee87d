"""`tttgen explain --format html`: the per-op table plus a roofline chart drawn as an inline SVG image."""

from __future__ import annotations

import html
import math
from typing import Any

from tttgen.ir.graph import Graph

WIDTH, HEIGHT, PAD = 760, 440, 60
COLORS = {"compute": "#c0392b", "dram": "#2471a3", "noc": "#8e44ad", "overhead": "#7f8c8d"}


def _scale(value: float, lo: float, hi: float, size: int) -> float:
    return (math.log10(value) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * size


def roofline_svg(graph: Graph, rows: list[dict[str, Any]]) -> str:
    """Attained FLOP/s against arithmetic intensity (FLOPs per DRAM byte), log-log, with the compute
    ceiling at each op's fidelity (HiFi2 drawn) and the achievable DRAM-bandwidth slope."""
    device = graph.device
    peak = device.peak_flops("HiFi2")
    peak_lofi = device.peak_flops("LoFi")
    bw = device.dram.sharded_gbps * 1e9
    points = [
        (r["flops"] / r["dram_bytes"], r["flops"] / (r["time_ns"] * 1e-9), r)
        for r in rows
        if r.get("flops") and r.get("dram_bytes") and r.get("time_ns")
    ]
    x_lo, x_hi = 0.1, 1e4
    y_lo, y_hi = 1e9, peak_lofi * 2
    plot_w, plot_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD

    def xy(x: float, y: float) -> tuple[float, float]:
        x = min(max(x, x_lo), x_hi)
        y = min(max(y, y_lo), y_hi)
        return PAD + _scale(x, x_lo, x_hi, plot_w), HEIGHT - PAD - _scale(y, y_lo, y_hi, plot_h)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" role="img" '
        f'aria-label="roofline of {html.escape(graph.name)} on {html.escape(device.name)}">',
        f'<rect x="{PAD}" y="{PAD}" width="{plot_w}" height="{plot_h}" fill="white" stroke="#333"/>',
    ]
    for ceiling, label in ((peak, "HiFi2 peak"), (peak_lofi, "LoFi peak")):
        knee = ceiling / bw
        x0, y0 = xy(x_lo, bw * x_lo)
        xk, yk = xy(knee, ceiling)
        x1, y1 = xy(x_hi, ceiling)
        parts.append(f'<polyline fill="none" stroke="#555" stroke-dasharray="4 3" points="{x0:.1f},{y0:.1f} {xk:.1f},{yk:.1f} {x1:.1f},{y1:.1f}"/>')
        parts.append(f'<text x="{x1 - 4:.1f}" y="{y1 - 4:.1f}" font-size="11" text-anchor="end">{label} {ceiling / 1e12:.0f} TFLOP/s</text>')
    for decade in range(-1, 5):
        x, _ = xy(10.0**decade, y_lo)
        parts.append(f'<text x="{x:.1f}" y="{HEIGHT - PAD + 16}" font-size="10" text-anchor="middle">{10.0 ** decade:g}</text>')
    for decade in range(9, 16):
        if 10.0**decade > y_hi:
            break
        _, y = xy(x_lo, 10.0**decade)
        parts.append(f'<text x="{PAD - 6}" y="{y + 3:.1f}" font-size="10" text-anchor="end">1e{decade}</text>')
    parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT - 18}" font-size="12" text-anchor="middle">FLOPs per DRAM byte</text>')
    parts.append(f'<text x="16" y="{HEIGHT / 2}" font-size="12" transform="rotate(-90 16 {HEIGHT / 2})" text-anchor="middle">attained FLOP/s</text>')
    for x, y, r in points:
        px, py = xy(x, y)
        color = COLORS.get(r["binding"], "#000")
        parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4" fill="{color}" fill-opacity="0.75"><title>{html.escape(r["op"])}: {r["binding"]}-bound, {r["time_ns"] / 1000:.1f} us</title></circle>')
    legend_y = PAD + 14
    for name, color in COLORS.items():
        parts.append(f'<circle cx="{PAD + 14}" cy="{legend_y - 4}" r="4" fill="{color}"/><text x="{PAD + 24}" y="{legend_y}" font-size="11">{name}-bound</text>')
        legend_y += 15
    parts.append("</svg>")
    return "\n".join(parts)


def explain_html(graph: Graph, rows: list[dict[str, Any]]) -> str:
    head = ["op", "kind", "config", "fidelity", "time us", "binding", "utilization", "L1 KiB/core", "cores"]
    body = []
    for r in rows:
        cells = [
            r["op"],
            r["kind"],
            r["config"],
            r["fidelity"],
            f"{r['time_ns'] / 1000:.1f}" if r.get("time_ns") else "-",
            r.get("binding", "-"),
            f"{100 * r['utilization']:.0f}%" if r.get("utilization") is not None else "-",
            str(r["l1_bytes_per_core"] // 1024) if r.get("l1_bytes_per_core") else "-",
            str(r["cores"]) if r.get("cores") else "-",
        ]
        body.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
        for c in r.get("rejected", []):
            body.append(f'<tr class="rej"><td colspan="4">rejected: {html.escape(c["config"])}</td><td>{c["time_ns"] / 1000:.1f}</td><td colspan="4">{html.escape(c["binding"])}</td></tr>')
    title = f"{graph.name} on {graph.device.name}"
    return (
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>tttgen explain: "
        + html.escape(title)
        + "</title><style>body{font-family:sans-serif}td,th{padding:2px 8px;border-bottom:1px solid #ddd;font-size:12px}"
        ".rej td{color:#777}</style></head><body>\n"
        + f"<h1>{html.escape(title)}</h1>\n<h2>Roofline</h2>\n{roofline_svg(graph, rows)}\n<h2>Ops</h2>\n<table>\n<tr>"
        + "".join(f"<th>{h}</th>" for h in head)
        + "</tr>\n"
        + "\n".join(body)
        + "\n</table>\n</body></html>\n"
    )
