"""Draws the chart of scripts/bench-compare.sh and scripts/bench-slow.sh: wall
time per command, with the number of Keystone requests each made written on
its bar.

    /usr/bin/python3 scripts/bench-chart.py compare.json compare.png
    /usr/bin/python3 scripts/bench-chart.py slow.json slow.png

Rows with a "kind" (bench-slow.sh: "vkc", "baseline", "ref") are coloured by
it and rows with a "group" are set apart by group; rows without (bench-compare.sh)
are red when they made Keystone requests, green when not. An optional "title"
replaces the default title.
"""
import json
import sys
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

KINDS = {
    "vkc": ("#55a868", "with vkc-credential"),
    "baseline": ("#c44e52", "password / fresh token"),
    "ref": ("#8c8c8c", "reference"),
}


def main(src, dst):
    data = json.load(open(src))
    rows = data["rows"]
    by_kind = all("kind" in r for r in rows)
    # y positions: a gap of half a bar between groups.
    ys, y, prev = [], 0.0, None
    for r in rows:
        g = r.get("group")
        if prev is not None and g != prev:
            y += 0.6
        ys.append(y)
        y += 1
        prev = g
    means = [r["mean_ms"] for r in rows]
    errs = [r.get("stddev_ms") or 0.0 for r in rows]
    if by_kind:
        colors = [KINDS.get(r["kind"], KINDS["ref"])[0] for r in rows]
    else:
        colors = ["#c44e52" if r["keystone_requests"] else "#55a868" for r in rows]
    fig, ax = plt.subplots(figsize=(10, 0.42 * y + 1.6), dpi=110)
    bars = ax.barh(ys, means, xerr=errs, color=colors, capsize=3, height=0.8)
    ax.set_yticks(ys, [r["command"] for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("wall time per command (ms, mean ± sd)")
    title = data.get("title") or f"Getting a token: wall time and Keystone requests ({data['runs']} runs each)"
    ax.set_title("\n".join(textwrap.wrap(title, 90)), fontsize=10)
    for bar, r, e in zip(bars, rows, errs):
        label = f"{r['mean_ms']:.0f} ms, {r['keystone_requests']} Keystone req."
        if "token_posts" in r and by_kind:
            label += f" ({r['token_posts']} token POST)"
        ax.text(bar.get_width() + e + max(means) * 0.015, bar.get_y() + bar.get_height() / 2,
                label, va="center", fontsize=7.5)
    ax.set_xlim(0, max(m + e for m, e in zip(means, errs)) * (1.8 if by_kind else 1.45))
    if by_kind:
        kinds = [k for k in KINDS if any(r["kind"] == k for r in rows)]
        ax.legend(handles=[Patch(color=KINDS[k][0], label=KINDS[k][1]) for k in kinds],
                  loc="lower right", fontsize=8)
    fig.text(0.01, 0.01, data["machine"], fontsize=7, color="#555")
    fig.tight_layout()
    fig.savefig(dst)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
