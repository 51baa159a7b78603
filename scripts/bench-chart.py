"""Draws the chart of scripts/bench-compare.sh: wall time per command, with
the number of Keystone requests each made written on its bar.

    /usr/bin/python3 scripts/bench-chart.py compare.json compare.png
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(src, dst):
    data = json.load(open(src))
    rows = data["rows"]
    names = [r["command"] for r in rows]
    means = [r["mean_ms"] for r in rows]
    errs = [r["stddev_ms"] for r in rows]
    fig, ax = plt.subplots(figsize=(9, 4.2), dpi=110)
    colors = ["#c44e52" if r["keystone_requests"] else "#55a868" for r in rows]
    bars = ax.barh(names, means, xerr=errs, color=colors, capsize=3)
    ax.invert_yaxis()
    ax.set_xlabel("wall time per command (ms, mean ± sd)")
    ax.set_title(f"Getting a token: wall time and Keystone requests ({data['runs']} runs each)")
    for bar, r in zip(bars, rows):
        ax.text(bar.get_width() + r["stddev_ms"] + max(means) * 0.015, bar.get_y() + bar.get_height() / 2,
                f"{r['mean_ms']:.0f} ms, {r['keystone_requests']} Keystone req.",
                va="center", fontsize=8)
    ax.set_xlim(0, max(m + e for m, e in zip(means, errs)) * 1.45)
    fig.text(0.01, 0.01, data["machine"], fontsize=7, color="#555")
    fig.tight_layout()
    fig.savefig(dst)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
