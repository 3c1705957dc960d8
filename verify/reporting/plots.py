"""PNG maps of where each estimator wins, byte-for-byte reproducible.

The contract: :func:`render_ratio_map` draws, for one parameter combination, one
panel per gradient component of ``log(pathwise variance / score variance)`` over
the (mu, sigma) domain, with a diverging colour scale centred at 0 (blue: pathwise
lower; red: score lower), grey where a variance is undefined, and the crossover
curve -- the zero level set of the exact log-ratio, traced on the grid of exact
values -- drawn in black.  The same drawing serves the efficiency maps (variance x
cost, :func:`verify.analysis.maps.log_efficiency_ratio`) with their own label.
Infinite ratios are clipped to the ends of the scale.

:func:`render_region_map` draws the proven regions instead: each box of
:func:`verify.analysis.regions.search_regions` filled with its label's colour (blue:
pathwise proven lower, red: score proven lower, white: equal, black: both infinite) and
the undecided boxes hatched yellow; the crossover curve lies inside the undecided ones,
since no proven box contains a point where the variances are equal.

Determinism: the Agg backend, fixed size and dpi, and no ``Software`` metadata,
so the same arrays give the same bytes with the same matplotlib.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import numpy as np

from verify.analysis.regions import Region

# Beyond a factor of e^6 ~ 400 the colour says no more; the tables give the numbers.
COLOUR_LIMIT = 6.0


def colour_limit(ratios: Mapping[str, np.ndarray]) -> float:
    """Symmetric colour-scale half-width: the largest finite |log ratio|, capped."""
    finite = [np.abs(r[np.isfinite(r)]) for r in ratios.values()]
    largest = max((float(v.max()) for v in finite if v.size), default=1.0)
    return float(min(max(largest, 0.1), COLOUR_LIMIT))


def render_ratio_map(
    mu_values: np.ndarray,
    sigma_values: np.ndarray,
    ratios: Mapping[str, np.ndarray],
    title: str,
    label: str = "log(Var pathwise / Var score)",
    legend: str = "blue: pathwise lower, red: score lower",
) -> bytes:
    """PNG bytes: one panel per component; ``ratios[p][i, j]`` is at (sigma_i, mu_j).

    ``label`` names the mapped quantity (the colour bar) and ``legend`` the colours.
    """
    limit = colour_limit(ratios)
    # Imported here: matplotlib costs 0.3 s to import, and only report writing draws.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import TwoSlopeNorm

    figure, axes = plt.subplots(1, len(ratios), figsize=(5.2 * len(ratios), 4.2), squeeze=False)
    norm = TwoSlopeNorm(vcenter=0.0, vmin=-limit, vmax=limit)
    colours = plt.get_cmap("RdBu_r").with_extremes(bad="#bbbbbb")
    for axis, (parameter, ratio) in zip(axes[0], ratios.items(), strict=True):
        clipped = np.clip(ratio, -limit, limit)  # keeps nan, clips +-inf
        image = axis.pcolormesh(
            mu_values, sigma_values, clipped, cmap=colours, norm=norm, shading="nearest"
        )
        finite = np.where(np.isfinite(ratio), ratio, np.nan)  # a jump to inf is no crossover
        if np.nanmin(finite, initial=np.inf) < 0 < np.nanmax(finite, initial=-np.inf):
            axis.contour(
                mu_values, sigma_values, finite, levels=[0.0], colors="black", linewidths=1.2
            )
        axis.set_xlabel("mu")
        axis.set_ylabel("sigma")
        axis.set_title(f"gradient wrt {parameter}")
        figure.colorbar(image, ax=axis, label=label)
    figure.suptitle(
        f"{title}\n{legend}, black: crossover, grey: undefined; infinite ratios at the scale's ends"
    )
    # Fixed margins: tight_layout took half of the drawing time (0.59 s against 0.28 s
    # per map), and a run draws hundreds of maps.
    figure.subplots_adjust(left=0.06, right=0.98, bottom=0.12, top=0.80, wspace=0.22)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()


def render_dimension_plot(
    grid: np.ndarray, curves: Mapping[str, Mapping[str, np.ndarray]], name: str, title: str
) -> bytes:
    """PNG bytes: one panel per component, each estimator's variance against d, log axes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    components = sorted({p for c in curves.values() for p in c}, key=["mu", "sigma"].index)
    figure, axes = plt.subplots(1, len(components), figsize=(5.2 * len(components), 4.2))
    for axis, parameter in zip(np.atleast_1d(axes), components, strict=True):
        for estimator, values in curves.items():
            positive = np.where(values[parameter] > 0, values[parameter], np.nan)
            axis.plot(grid, positive, label=estimator, linewidth=1.4)
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel(name)
        axis.set_ylabel("variance (coordinate 1)")
        axis.set_title(f"gradient wrt {parameter}_1")
        axis.legend(fontsize=7)
    figure.suptitle(f"{title}\nexact variances against {name}")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()


# Colours of the proven labels (score against pathwise); undecided boxes are hatched.
REGION_COLOURS = {
    "pathwise": "#4a7ab7",
    "score": "#c8514a",
    "equal": "#ffffff",
    "infinite": "#222222",
    "undecided": "#f2d544",
}


def render_region_map(
    panels: Mapping[str, Sequence[Region]],
    domain: tuple[tuple[float, float], tuple[float, float]],
    title: str,
) -> bytes:
    """PNG bytes: one panel per component, each box of the (mu, sigma) regions coloured by
    its proven label (see the module docstring); ``domain`` is ((mu lo, hi), (sigma lo, hi))."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Patch, Rectangle

    figure, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 4.2), squeeze=False)
    for axis, (parameter, regions) in zip(axes[0], panels.items(), strict=True):
        for label, colour in REGION_COLOURS.items():
            boxes = [
                Rectangle((mu[0], sigma[0]), mu[1] - mu[0], sigma[1] - sigma[0])
                for mu, sigma in (r.box[:2] for r in regions if r.label == label)
            ]
            hatch = "////" if label == "undecided" else None
            edge = "#999999" if hatch else "none"
            collection = PatchCollection(
                boxes, facecolor=colour, edgecolor=edge, linewidth=0.2, hatch=hatch
            )
            axis.add_collection(collection)
        axis.set_xlim(*domain[0])
        axis.set_ylim(*domain[1])
        axis.set_xlabel("mu")
        axis.set_ylabel("sigma")
        axis.set_title(f"gradient wrt {parameter}")
    handles = [Patch(facecolor=c, edgecolor="#999999", label=k) for k, c in REGION_COLOURS.items()]
    figure.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8)
    figure.suptitle(f"{title}\nproven lower (ball arithmetic); undecided boxes hatched")
    figure.subplots_adjust(left=0.06, right=0.98, bottom=0.2, top=0.82, wspace=0.22)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()
