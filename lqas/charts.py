"""Charts (06PO): matplotlib views of the tidy estimates frame, saved as SVG (reports) and PNG."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # reports are rendered headless
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

# Okabe-Ito: distinguishable with colour-vision deficiency and in grey print (with distinct markers)
GIRLS = {"color": "#D55E00", "marker": "o"}
BOYS = {"color": "#0072B2", "marker": "s"}
STYLE = {"font.size": 8, "axes.spines.top": False, "axes.spines.right": False,
         "svg.fonttype": "none", "font.family": "DejaVu Sans"}


def sex_gap_chart(estimates: pd.DataFrame, indicators: list[str], cohorts: list[str], *,
                  labels: dict[str, str], catchment_labels: dict[str, str], cohort_labels: dict[str, str],
                  text: dict[str, str]) -> plt.Figure:
    """Forest chart: girls vs boys estimate and 95 % CI for each catchment, indicator and cohort."""
    rows = estimates[(estimates["sex"].isin(["F", "M"])) & (estimates["catchment"] != "all")]
    catchments = [c for c in catchment_labels if c in set(rows["catchment"])]
    with plt.rc_context(STYLE):
        figure, axes = plt.subplots(len(cohorts), len(indicators), figsize=(7.2, 2.2 * len(cohorts) + 0.7),
                                    sharey=True, squeeze=False)
        for i, cohort in enumerate(cohorts):
            for j, indicator in enumerate(indicators):
                ax = axes[i][j]
                for offset, sex, style, name in ((-0.15, "F", GIRLS, text["girls"]), (0.15, "M", BOYS, text["boys"])):
                    part = rows[(rows["indicator"] == indicator) & (rows["cohort"] == cohort) & (rows["sex"] == sex)]
                    part = part.set_index("catchment").reindex(catchments)
                    y = [k + offset for k in range(len(catchments))]
                    ax.errorbar(100 * part["estimate"], y,
                                xerr=[100 * (part["estimate"] - part["ci_low"]), 100 * (part["ci_high"] - part["estimate"])],
                                fmt=style["marker"], color=style["color"], ms=4, capsize=2, lw=1, label=name)
                ax.set_yticks(range(len(catchments)), [catchment_labels[c] for c in catchments])
                ax.set_xlim(0, 100)
                ax.grid(axis="x", color="#dddddd", lw=0.5)
                ax.set_title(f"{labels[indicator]}\n{cohort_labels.get(cohort, cohort)}", fontsize=8)
                if i == len(cohorts) - 1:
                    ax.set_xlabel(text["percent_axis"])
        axes[0][0].invert_yaxis()  # shared y axis: first catchment on top
        handles, names = axes[0][0].get_legend_handles_labels()
        figure.legend(handles, names, loc="lower center", ncol=2, frameon=False)
        figure.tight_layout(rect=(0, 0.05, 1, 1))
    return figure


def save_chart(figure: plt.Figure, png_path: Path) -> str:
    """Write the PNG file and return the SVG markup for inlining in the HTML report."""
    png_path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(png_path, dpi=200)
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    plt.close(figure)
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]
