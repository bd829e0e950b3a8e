#!/usr/bin/env python3
"""Markdown tables and PNG plots of a side_by_side.py run.

    .venv/bin/python bench/side_by_side_report.py bench/results/side_by_side-<stamp>.json

writes ``<stamp>.md``, ``<stamp>-latency.png`` (whole call by image size per engine, and the
stages of each implementation) and ``<stamp>-memory.png`` next to the JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

IMPLS = ["ours-menu", "ours-popup", "imgly", "native"]
LABELS = {
    "ours-menu": "Backgrone, right-click",
    "ours-popup": "Backgrone, popup",
    "imgly": "@imgly/background-removal",
    "imgly-shown": "@imgly/background-removal, its page showing the photo",
    "native": "native onnxruntime (CLI code)",
    "native-cli": "python -m backgrone cut",
}
COLOURS = {
    "ours-menu": "#1a7f5a",
    "ours-popup": "#5fb98e",
    "imgly": "#c0504d",
    "imgly-shown": "#e08a86",
    "native": "#4f6fae",
    "native-cli": "#4f6fae",
}
STAGES = ["fetch", "decode", "preprocess", "inference", "postprocess", "encode", "deliver"]
STAGE_COLOURS = ["#bbbbbb", "#8fb3de", "#4f6fae", "#1a7f5a", "#e0a030", "#c0504d", "#8e6bb0"]


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value / 1000:.2f}"


def _x(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}x"


def _find(summary: list[dict], impl: str, engine: str, size: str) -> dict | None:
    return next((s for s in summary if (s["impl"], s["engine"], s["size"]) == (impl, engine, size)), None)


def markdown(report: dict) -> str:
    m, sizes = report["machine"], list(report["images"])
    engines = list(dict.fromkeys(s["engine"] for s in report["summary"]))
    lines = [
        f"# Side by side: {report['when']}{' (smoke)' if report.get('smoke') else ''}",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; {m['platform']}; {m['browser']}.",
        f"Versions: {', '.join(f'{k} {v}' for k, v in report['versions'].items())}.",
        f"Warm runs per cell: {report['runs']} (interleaved). Times in seconds: median (min-max).",
        "",
        "## Whole call, warm",
        "",
        "| engine | image | "
        + " | ".join(LABELS[i] for i in IMPLS)
        + " | ours/imgly (right-click) | ours/native (right-click) |",
        "|---|---|" + "---|" * (len(IMPLS) + 2),
    ]
    ratio = {(r["impl"], r["engine"], r["size"]): r for r in report["ratios"]}
    for engine in engines:
        for size in sizes:
            cells = []
            for impl in IMPLS:
                s = _find(report["summary"], impl, engine, size)
                cells.append("-" if s is None else f"{_s(s['median'])} ({_s(s['min'])}-{_s(s['max'])})")
            r = ratio.get(("ours-menu", engine, size), {})
            oi, on = r.get("ours_over_imgly"), r.get("ours_over_native")
            lines.append(f"| {engine} | {size} | " + " | ".join(cells) + f" | {_x(oi)} | {_x(on)} |")
    lines += [
        "",
        "## Stages, warm (median, ms)",
        "",
        "| engine | image | implementation | " + " | ".join(STAGES) + " | outside inference |",
        "|---|---|---|" + "---|" * (len(STAGES) + 1),
    ]
    for engine in engines:
        for size in sizes:
            for impl in IMPLS:
                s = _find(report["summary"], impl, engine, size)
                if s is None:
                    continue
                st = s["stages"]
                outside = s["median"] - st.get("inference", 0.0)
                lines.append(
                    f"| {engine} | {size} | {impl} | "
                    + " | ".join(f"{st[k]:.0f}" if k in st else "-" for k in STAGES)
                    + f" | {outside:.0f} ({outside / max(st.get('inference', 1.0), 1.0):.0%} of inference) |"
                )
    lines += [
        "",
        "## Cold start: browser start to first cut-out (first image)",
        "",
        "| implementation | engine | model cached | profile | browser start | first cut-out | total "
        "| of which: engine boot wait, model load |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in report["cold"]:
        st = c["stages"]
        lines.append(
            f"| {c['impl']} | {c['engine']} | {'yes' if c['cached'] else 'no'} | {c.get('profile', '-')} "
            f"| {_s(c['launch'])} "
            f"| {_s(c['first_cut'])} | {_s(c['total'])} | "
            f"{_s(st.get('python_wait'))}, {_s(st.get('model_wait'))} |"
        )
    if report.get("native_sessions"):
        lines += [
            "",
            "Native onnxruntime session creation (ms): "
            + ", ".join(f"{k} {v:.0f}" for k, v in report["native_sessions"].items())
            + ".",
        ]
    if report["memory"]:
        lines += [
            "",
            "## Peak memory (sum of PSS of all the browser's processes; the CLI's own process)",
            "",
            "| engine | image | implementation | peak MB |",
            "|---|---|---|---|",
        ]
        for mem in report["memory"]:
            lines.append(
                f"| {mem['engine']} | {mem['size']} | {LABELS.get(mem['impl'], mem['impl'])} | {mem['peak_mb']:.0f} |"
            )
    if report["quality"]:
        lines += [
            "",
            "## Quality against the true alpha (first warm run)",
            "",
            "| engine | image | implementation | MAE | IoU@0.5 | edge-band MAE |",
            "|---|---|---|---|---|---|",
        ]
        for q in report["quality"]:
            lines.append(
                f"| {q['engine']} | {q['size']} | {q['impl']} | {q['mae']:.4f} | {q['iou']:.4f} | {q['edge_mae']:.4f} |"
            )
    return "\n".join(lines) + "\n"


def plot_latency(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    engines = list(dict.fromkeys(s["engine"] for s in report["summary"]))
    sizes = list(report["images"])
    mp = [report["images"][s]["megapixels"] for s in sizes]
    fig, axes = plt.subplots(2, len(engines), figsize=(5.2 * len(engines), 9), squeeze=False)
    for col, engine in enumerate(engines):
        ax = axes[0][col]
        for impl in IMPLS:
            pts = [(x, _find(report["summary"], impl, engine, s)) for x, s in zip(mp, sizes, strict=False)]
            pts = [(x, s) for x, s in pts if s]
            if not pts:
                continue
            xs = [x for x, _ in pts]
            ax.plot(xs, [s["median"] / 1000 for _, s in pts], "o-", color=COLOURS[impl], label=LABELS[impl])
            ax.fill_between(
                xs,
                [s["min"] / 1000 for _, s in pts],
                [s["max"] / 1000 for _, s in pts],
                color=COLOURS[impl],
                alpha=0.15,
            )
        ax.set_title(f"{engine}: whole call, warm (median, min-max)")
        ax.set_xlabel("image size (megapixels)")
        ax.set_ylabel("seconds")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        # stages: one bar per (size, implementation)
        ax = axes[1][col]
        labels, bottoms, x = [], [], 0
        for size in sizes:
            for impl in IMPLS:
                s = _find(report["summary"], impl, engine, size)
                if not s:
                    continue
                base = 0.0
                for stage, colour in zip(STAGES, STAGE_COLOURS, strict=False):
                    v = s["stages"].get(stage, 0.0) / 1000
                    ax.bar(x, v, bottom=base, color=colour, width=0.8, label=stage if not labels else None)
                    base += v
                rest = s["median"] / 1000 - base
                if rest > 0:
                    ax.bar(
                        x,
                        rest,
                        bottom=base,
                        color="#eeeeee",
                        width=0.8,
                        edgecolor="#cccccc",
                        label="other" if not labels else None,
                    )
                labels.append(f"{size}\n{impl.replace('ours-', '')}")
                bottoms.append(x)
                x += 1
            x += 0.6
        ax.set_xticks(bottoms, labels, fontsize=6, rotation=90)
        ax.set_ylabel("seconds")
        ax.set_title(f"{engine}: where the time goes")
        ax.legend(fontsize=7, ncols=2)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_memory(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["memory"]
    engines = list(dict.fromkeys(r["engine"] for r in rows)) or ["-"]
    fig, axes = plt.subplots(1, len(engines), figsize=(5 * len(engines), 4), squeeze=False)
    for col, engine in enumerate(engines):
        ax = axes[0][col]
        mine = [r for r in rows if r["engine"] == engine]
        sizes = list(dict.fromkeys(r["size"] for r in mine))
        impls = list(dict.fromkeys(r["impl"] for r in mine))
        width = 0.8 / max(len(impls), 1)
        for j, impl in enumerate(impls):
            vals = [next((r["peak_mb"] for r in mine if r["impl"] == impl and r["size"] == s), 0) for s in sizes]
            ax.bar(
                [i + j * width for i in range(len(sizes))],
                vals,
                width=width,
                color=COLOURS.get(impl, "#888888"),
                label=LABELS.get(impl, impl),
            )
        ax.axhline(1536, color="#999999", linestyle="--", linewidth=1, label="target at 24 MP (1.5 GB)")
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(sizes))], sizes)
        ax.set_ylabel("peak PSS (MB)")
        ax.set_title(f"{engine}: peak memory")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def render(report: dict, base: Path) -> list[Path]:
    """Write ``base``.md, ``base``-latency.png and ``base``-memory.png; returns their paths."""
    md = base.parent / f"{base.name}.md"
    latency = base.parent / f"{base.name}-latency.png"
    memory = base.parent / f"{base.name}-memory.png"
    md.write_text(markdown(report))
    plot_latency(report, latency)
    plot_memory(report, memory)
    return [md, latency, memory]


if __name__ == "__main__":
    path = Path(sys.argv[1])
    for written in render(json.loads(path.read_text()), path.with_suffix("")):
        print(written)
