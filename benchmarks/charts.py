"""The suite's charts, drawn with matplotlib from ``figures.json``'s reports (optional: the ``bench`` extra).

- ``records_per_s_vs_size.png``: records/s against input size, streamkit and
  its baselines (the ``scaling`` report in memory; the ``stream`` report file to
  file when it measured more than one size);
- ``rss_over_time.png``: resident memory over time of streamkit's streaming
  runs (the ``stream`` report's samples of ``/proc/<pid>/status``);
- ``ns_per_record_per_state.png``: the ``states`` report, median and min–max.

:func:`draw_charts` returns the files it wrote and why any chart was left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ("draw_charts", "matplotlib_missing")


def matplotlib_missing() -> str:
    """Why charts cannot be drawn (``""`` when matplotlib imports)."""
    try:
        import matplotlib
    except ImportError as exc:
        return f"matplotlib is not installed ({exc}); pip install 'streamkit[bench]' to get the charts"
    del matplotlib
    return ""


def _rate_series(figures: Mapping[str, Mapping[str, Any]], prefix: str) -> dict[str, list[tuple[int, float]]]:
    """Records/s by implementation, ``(records, rate)`` sorted by size, for figures whose job starts with ``prefix``."""
    out: dict[str, list[tuple[int, float]]] = {}
    for fig in figures.values():
        if fig.get("unit") != "ns/record" or not str(fig.get("job", "")).startswith(prefix):
            continue
        out.setdefault(str(fig["impl"]), []).append((int(fig["records"]), 1e9 / fig["median"]))
    return {k: sorted(v) for k, v in out.items()}


def draw_charts(reports: Mapping[str, Mapping[str, Any]], out_dir: Path) -> tuple[list[str], list[str]]:
    """Draw every chart the reports have data for into ``out_dir``: (file names, notes on charts left out)."""
    missing = matplotlib_missing()
    if missing:
        return [], [missing]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files: list[str] = []
    notes: list[str] = []

    panels = []
    if "scaling" in reports:
        panels.append(("in memory, seed job", _rate_series(reports["scaling"]["figures"], "seed in memory")))
    if "stream" in reports:
        series = _rate_series(reports["stream"]["figures"], "seed jsonl->jsonl")
        if any(len(v) > 1 for v in series.values()):
            panels.append(("file to file, seed job JSONL → JSONL", series))
    if panels:
        fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4.5), squeeze=False)
        for ax, (title, series) in zip(axes[0], panels):
            for impl, points in series.items():
                xs, ys = zip(*points)
                ax.plot(xs, ys, marker="o", linewidth=2.5 if impl.startswith("streamkit") else 1.2, label=impl)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("records in")
            ax.set_ylabel("records/s (median)")
            ax.set_title(title)
            ax.grid(visible=True, which="both", alpha=0.3)
            ax.legend(fontsize="small")
        fig.tight_layout()
        fig.savefig(out_dir / "records_per_s_vs_size.png", dpi=110)
        plt.close(fig)
        files.append("records_per_s_vs_size.png")
    else:
        notes.append("records/s vs size: no `scaling` report in this run")

    timelines = reports.get("stream", {}).get("series", {}).get("rss_timelines", [])
    if timelines:
        fig, ax = plt.subplots(figsize=(7.5, 4.5))
        for line in timelines:
            if line["t_s"]:
                ax.plot(line["t_s"], line["rss_mb"], label=f"{line['label']}: RSS")
                ax.plot(line["t_s"], line["anon_mb"], linestyle="--", label=f"{line['label']}: anonymous")
        ax.set_xlabel("seconds since the process started")
        ax.set_ylabel("resident memory, MB")
        ax.set_title("peak RSS over time of a streaming run (sampled every 50 ms)")
        ax.grid(visible=True, alpha=0.3)
        ax.legend(fontsize="x-small")
        fig.tight_layout()
        fig.savefig(out_dir / "rss_over_time.png", dpi=110)
        plt.close(fig)
        files.append("rss_over_time.png")
    else:
        notes.append("RSS over time: no streamkit JSONL run of the `stream` report in this run")

    states = [f for f in reports.get("states", {}).get("figures", {}).values() if f.get("unit") == "ns/record"]
    if states:
        fig, ax = plt.subplots(figsize=(7.5, 0.5 * len(states) + 1.5))
        names = [str(f["impl"]) for f in states]
        medians = [f["median"] for f in states]
        errors = [[f["median"] - f["min"] for f in states], [f["max"] - f["median"] for f in states]]
        ax.barh(names, medians, xerr=errors, capsize=3, color=["#4c72b0"] * (len(states) - 1) + ["#dd8452"])
        ax.invert_yaxis()
        ax.set_xlabel("ns per record (median; bars: min–max)")
        ax.set_title("seed network: ns per record per state (one-state sub-networks)")
        ax.grid(visible=True, axis="x", alpha=0.3)
        fig.tight_layout()
        fig.savefig(out_dir / "ns_per_record_per_state.png", dpi=110)
        plt.close(fig)
        files.append("ns_per_record_per_state.png")
    else:
        notes.append("ns per record per state: no `states` report in this run")
    return files, notes
