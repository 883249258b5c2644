"""The optimisation report: one self-contained HTML page (inline SVG, no scripts, no CDN)."""

from __future__ import annotations

import html
from typing import Final

import pandas as pd

CHART_KPIS: Final = (
    ("energy_kwh", "energy, kWh"),
    ("cost_adjusted_usd", "charging cost (end-SOC adjusted), USD"),
    ("drive_time_h", "driving time, h"),
    ("charging_time_h", "charging time, h"),
    ("public_sessions", "public sessions"),
    ("site_peak_kw", "site peak, kW"),
)
_BAR_H, _LABEL_W, _PLOT_W = 18, 260, 360
_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;"
    "text-align:right}th{background:#f3f3f3}td:first-child,td:nth-child(2){text-align:left}"
    "svg{margin:0 1em 1em 0}h2{margin-top:1.5em}"
)


def _bars(title: str, labels: list[str], values: list[float]) -> str:
    top = max([abs(v) for v in values] + [1e-12])
    h = _BAR_H * len(values) + 30
    rows = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_LABEL_W + _PLOT_W + 80}" '
        f'height="{h}" role="img"><title>{html.escape(title)}</title>'
        f'<text x="0" y="14" font-size="13" font-weight="bold">{html.escape(title)}</text>'
    ]
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        y = 22 + i * _BAR_H
        w = _PLOT_W * abs(v) / top
        color = "#888" if label == "baseline" else "#2a7ab8"
        rows.append(
            f'<text x="0" y="{y + 12}" font-size="11">{html.escape(label)}</text>'
            f'<rect x="{_LABEL_W}" y="{y}" width="{w:.1f}" height="{_BAR_H - 4}" fill="{color}"/>'
            f'<text x="{_LABEL_W + w + 4:.1f}" y="{y + 12}" font-size="11">{v:,.2f}</text>'
        )
    rows.append("</svg>")
    return "".join(rows)


def render_report(
    fleet: pd.DataFrame, sites: pd.DataFrame, infeasible: pd.DataFrame, *, title: str
) -> str:
    """HTML of the fleet KPIs per (strategy, planning mode) against the baseline.

    ``fleet``: one row per ``strategy, planning_mode, side``; ``sites``: peaks per site
    before/after the site LP; ``infeasible``: trips with their reason.
    """
    base = fleet.loc[fleet["side"] == "baseline"].head(1)
    opt = fleet.loc[fleet["side"] == "optimised"]
    labels = ["baseline"] + [f"{r.strategy} / {r.planning_mode}" for r in opt.itertuples()]
    charts = [
        _bars(
            name, labels, [float(base[key].iloc[0]) if len(base) else 0.0, *opt[key].astype(float)]
        )
        for key, name in CHART_KPIS
    ]
    table = pd.concat([base.assign(strategy="baseline", planning_mode="as driven"), opt])
    parts = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
        "<p>Baseline: the dataset's trips as the synthetic drivers did them. Optimised: the "
        "same trips, departures and weather, re-planned. Both driven by the simulator's "
        "physics with common random numbers per (vehicle, trip, edge). Costs are charging "
        "costs at TOU prices; the adjusted cost adds refilling to the initial SOC at the "
        "off-peak home price.</p><h2>Fleet KPIs</h2>",
        table.drop(columns=["side"]).to_html(index=False, float_format=lambda x: f"{x:,.3f}"),
        "<h2>Charts</h2>",
        *charts,
        "<h2>Shared sites (home/depot power)</h2>",
        sites.to_html(index=False, float_format=lambda x: f"{x:,.2f}")
        if len(sites)
        else "<p>none</p>",
        "<h2>Infeasible trips</h2>",
        infeasible.to_html(index=False) if len(infeasible) else "<p>none</p>",
        "</body></html>",
    ]
    return "\n".join(parts)
