"""PNG maps of where each estimator wins, byte-for-byte reproducible.

The contract: :func:`render_ratio_map` draws, for one parameter combination, one
panel per gradient component of ``log(pathwise variance / score variance)`` over
the (mu, sigma) domain, with a diverging colour scale centred at 0 (blue: pathwise
lower; red: score lower) shared by the panels (one colour bar), grey where a variance
is undefined, and the crossover curve -- the zero level set of the exact log-ratio,
traced on the grid of exact values -- drawn in black.  The same drawing serves the
efficiency maps (variance x cost, :func:`verify.analysis.maps.log_efficiency_ratio`)
with their own label.  Infinite ratios are clipped to the ends of the scale.

:func:`render_region_map` draws the proven regions instead: each box of
:func:`verify.analysis.regions.search_regions` filled with its label's colour (blue:
pathwise proven lower, red: score proven lower, white: equal, black: both infinite) and
the undecided boxes hatched yellow; the crossover curve lies inside the undecided ones,
since no proven box contains a point where the variances are equal.  The boxes are
painted into one image of the panel's size in pixels (:func:`region_raster`).

Determinism: the Agg backend (a bare ``Figure``, no pyplot), fixed size and dpi, and no
``Software`` metadata, so the same arrays give the same bytes with the same matplotlib.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from verify.analysis.regions import UNDECIDED, Region

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.colors import Colormap
    from matplotlib.figure import Figure

# Beyond a factor of e^6 ~ 400 the colour says no more; the tables give the numbers.
COLOUR_LIMIT = 6.0
# Dots per inch of every PNG (a figure is 5.2 x 4.2 inches a panel).
DPI = 80
ROW_HEIGHT = 4.2  # inches: a one-row figure; each further row adds 3.4


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
    figure, axes = _canvas("ratio", len(ratios), _ratio_frame)
    *panels, bar = axes
    colours = _ratio_colours()
    # Cell-centred like pcolormesh(shading="nearest"): the grid is uniform (linspace).
    half_mu, half_sigma = (mu_values[1] - mu_values[0]) / 2, (sigma_values[1] - sigma_values[0]) / 2
    extent = (
        mu_values[0] - half_mu,
        mu_values[-1] + half_mu,
        sigma_values[0] - half_sigma,
        sigma_values[-1] + half_sigma,
    )
    for axis, (parameter, ratio) in zip(panels, ratios.items(), strict=True):
        # Coloured here, drawn as one image: nan grey, +-inf clipped to the scale's ends.
        scaled = (np.clip(ratio, -limit, limit) + limit) / (2 * limit)
        _show(axis, colours(scaled, bytes=True), extent)
        _draw_crossover(axis, mu_values, sigma_values, ratio)
        _title(axis, parameter)
    # One colour bar, a gradient image on a plain axis: the panels share [-limit, limit].
    gradient = np.linspace(0.0, 1.0, 256)[:, np.newaxis]
    _show(bar, colours(gradient, bytes=True), (0.0, 1.0, -limit, limit))
    bar.set_ylabel(label)
    figure.suptitle(
        f"{title}\n{legend}, black: crossover, grey: undefined; infinite ratios at the scale's ends"
    )
    return _png(figure)


def _ratio_frame(figure: Figure, panels: list[Axes]) -> list[Axes]:
    """The fixed parts of a ratio map: margins, axis labels, and the colour bar's axis
    (appended) right of the panels, its ticks and label on the right."""
    # In inches from the right edge, whatever the number of panels: the panels end 1.05
    # inches in, the bar is 0.125 wide from 0.9 in, and its ticks and label take the rest.
    inch = 1 / figure.get_figwidth()
    figure.subplots_adjust(left=0.06, right=1 - 1.05 * inch, bottom=0.12, top=0.80, wspace=0.22)
    _label_axes(panels)
    bottom, top = figure.subplotpars.bottom, figure.subplotpars.top
    bar = figure.add_axes((1 - 0.9 * inch, bottom, 0.125 * inch, top - bottom))
    bar.set_xticks([])
    bar.yaxis.tick_right()
    bar.yaxis.set_label_position("right")
    return [*panels, bar]


def _title(axis: Axes, parameter: str) -> None:
    # At a given height: the panels have no ticks on top, and placing the title clear
    # of them was 8% of a map's time.
    axis.set_title(f"gradient wrt {parameter}", y=1.0)


def _label_axes(panels: list[Axes]) -> None:
    """Every map's panels are in the (mu, sigma) plane."""
    for axis in panels:
        axis.set_xlabel("mu")
        axis.set_ylabel("sigma")


def _ratio_colours() -> Colormap:
    import matplotlib

    return matplotlib.colormaps["RdBu_r"].with_extremes(bad="#bbbbbb")


def _draw_crossover(
    axis: Axes, mu_values: np.ndarray, sigma_values: np.ndarray, ratio: np.ndarray
) -> None:
    """The zero level set of the finite part of ``ratio``, in black, if it changes sign."""
    finite = np.where(np.isfinite(ratio), ratio, np.nan)  # a jump to inf is no crossover
    if not np.nanmin(finite, initial=np.inf) < 0 < np.nanmax(finite, initial=-np.inf):
        return
    axis.contour(mu_values, sigma_values, finite, levels=[0.0], colors="black", linewidths=1.2)


def render_dimension_plot(
    grid: np.ndarray, curves: Mapping[str, Mapping[str, np.ndarray]], name: str, title: str
) -> bytes:
    """PNG bytes: one panel per component, each estimator's variance against d, log axes."""
    components = sorted({p for c in curves.values() for p in c}, key=["mu", "sigma"].index)
    figure, axes = _figure(len(components))
    for axis, parameter in zip(axes, components, strict=True):
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
    # Fixed margins with room for labels like 10^-12: tight_layout was 40% of the plot's time.
    figure.subplots_adjust(left=0.08, right=0.98, bottom=0.12, top=0.8, wspace=0.24)
    return _png(figure)


# Colours of the proven labels (score against pathwise); undecided boxes are hatched.
REGION_COLOURS = {
    "pathwise": "#4a7ab7",
    "score": "#c8514a",
    "equal": "#ffffff",
    "infinite": "#222222",
    UNDECIDED: "#f2d544",
}
HATCH_COLOUR = "#999999"
# Pixels between the starts of two hatching stripes (each 2 pixels wide).
HATCH_PERIOD = 7


def render_region_map(
    panels: Mapping[str, Sequence[Region]],
    domain: tuple[tuple[float, float], tuple[float, float]],
    title: str,
    rows: int = 1,
) -> bytes:
    """PNG bytes: one panel per component, each box of the (mu, sigma) regions coloured by
    its proven label (see the module docstring); ``domain`` is ((mu lo, hi), (sigma lo, hi)).

    ``rows`` > 1 lays the panels out row by row (an explicit-coordinate case: the mu_i in
    the first row, the sigma_i in the second).
    """
    figure, axes = _canvas("region", len(panels), _region_frame, rows)
    for axis, (parameter, regions) in zip(axes, panels.items(), strict=True):
        # The boxes painted into one image of the axis's size in pixels: a patch per box
        # (16,000 per case) took 0.5 s a map, hatching most of it.
        shape = (round(axis.bbox.height), round(axis.bbox.width))
        _show(axis, region_raster(regions, domain, shape), (*domain[0], *domain[1]))
        _title(axis, parameter)
    # At matplotlib's default height (0.98) of a one-row figure, in inches.
    height = 1 - 0.02 * ROW_HEIGHT / figure.get_figheight()
    figure.suptitle(f"{title}\nproven lower (ball arithmetic); undecided boxes hatched", y=height)
    return _png(figure)


def _region_frame(figure: Figure, panels: list[Axes]) -> list[Axes]:
    """The fixed parts of a region map: margins, axis labels and the legend of labels."""
    from matplotlib.patches import Patch

    # The single row's margins kept in inches, so a taller figure has the same room for
    # the title above and the legend below.
    inches = ROW_HEIGHT / figure.get_figheight()
    figure.subplots_adjust(
        left=0.06,
        right=0.98,
        bottom=0.2 * inches,
        top=1 - 0.18 * inches,
        wspace=0.22,
        hspace=0.4,
    )
    _label_axes(panels)
    handles = [
        Patch(
            facecolor=c, edgecolor=HATCH_COLOUR, label=k, hatch="////" if k == UNDECIDED else None
        )
        for k, c in REGION_COLOURS.items()
    ]
    figure.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8)
    return panels


def region_raster(
    regions: Sequence[Region],
    domain: tuple[tuple[float, float], tuple[float, float]],
    shape: tuple[int, int],
) -> np.ndarray:
    """RGB pixels (rows: sigma upwards, columns: mu) of ``regions`` over ``domain``.

    A box covers the pixels whose centres it contains, and at least one pixel each way,
    so no box vanishes; undecided boxes are painted last, yellow with grey diagonal
    stripes, so a crossover's undecided boxes stay visible however small.
    """
    rows, columns = shape
    pixels = np.full((rows, columns, 3), 255, dtype=np.uint8)
    undecided = np.zeros((rows, columns), dtype=bool)
    for region in regions:
        mu, sigma = region.box[:2]
        cells = _pixel_span(sigma, domain[1], rows), _pixel_span(mu, domain[0], columns)
        if region.label == UNDECIDED:
            undecided[cells] = True
        else:
            pixels[cells] = _rgb(REGION_COLOURS[region.label])
    row, column = np.indices(shape)
    stripes = (column - row) % HATCH_PERIOD < 2  # "/" lines, origin at the bottom left
    pixels[undecided] = _rgb(REGION_COLOURS[UNDECIDED])
    pixels[undecided & stripes] = _rgb(HATCH_COLOUR)
    return pixels


def _pixel_span(interval: tuple[float, float], whole: tuple[float, float], size: int) -> slice:
    """The pixels (of ``size`` across ``whole``) whose centres lie in ``interval``; at least one."""
    scale = size / (whole[1] - whole[0])
    start = min(max(round((interval[0] - whole[0]) * scale), 0), size - 1)
    end = min(round((interval[1] - whole[0]) * scale), size)
    return slice(start, max(end, start + 1))


def _show(axis: Axes, pixels: np.ndarray, extent: tuple[float, float, float, float]) -> None:
    """RGB(A) ``pixels`` (first row at the bottom) filling ``extent`` of ``axis``, unsmoothed."""
    axis.imshow(pixels, origin="lower", aspect="auto", extent=extent, interpolation="nearest")
    axis.set_xlim(extent[:2])
    axis.set_ylim(extent[2:])


def _rgb(colour: str) -> tuple[int, int, int]:
    """``"#rrggbb"`` as three bytes."""
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


# One figure per kind of map and number of panels, drawn again for each map: building
# a figure's axes and ticks was half of a map's time.  Not for concurrent use (the
# reports of a process are drawn one after another).
_CANVASES: dict[tuple[str, int, int], tuple[Figure, list[Axes]]] = {}


def _canvas(
    kind: str, panels: int, frame: Callable[[Figure, list[Axes]], list[Axes]], rows: int = 1
) -> tuple[Figure, list[Axes]]:
    """The figure of ``kind`` with ``panels`` panels, without what the last map drew.

    ``frame`` adds to a new figure what every map of the kind shares and returns the axes
    the map draws on.  Each map sets every title, image, line and axis limit it shows, so
    its bytes do not depend on the maps drawn before it.
    """
    key = (kind, panels, rows)
    if key not in _CANVASES:
        figure, axes = _figure(panels, rows)
        _CANVASES[key] = figure, frame(figure, axes)
    figure, axes = _CANVASES[key]
    for axis in axes:
        for artist in [*axis.images, *axis.collections]:
            artist.remove()
    return figure, axes


def prepare_figures() -> None:
    """Build the figures of a case's maps (two panels) and load their fonts now.

    ``verify run`` calls this before it forks a process per case, which then starts with
    them: a case's first maps cost 0.2 CPU s more than its later ones.  Safe because each
    map draws everything it shows (:func:`_canvas`).
    """
    values = np.zeros((2, 2))
    corners = np.array([0.0, 1.0])
    render_ratio_map(corners, corners, {"mu": values, "sigma": values}, "")
    render_region_map({"mu": [], "sigma": []}, ((0.0, 1.0), (0.0, 1.0)), "")


def _figure(panels: int, rows: int = 1) -> tuple[Figure, list[Axes]]:
    """A figure of ``panels`` in ``rows`` rows (filled row by row) at the output's dpi, so
    its pixels are the PNG's."""
    # Imported here: matplotlib costs 0.3 s to import, and only report writing draws.
    from matplotlib.figure import Figure

    columns = -(-panels // rows)
    figure = Figure(figsize=(5.2 * columns, ROW_HEIGHT + 3.4 * (rows - 1)), dpi=DPI)
    axes = list(figure.subplots(rows, columns, squeeze=False).flat)
    for unused in axes[panels:]:
        unused.remove()
    return figure, axes[:panels]


def _png(figure: Figure) -> bytes:
    """The PNG of ``figure``, without the ``Software`` metadata (it names the version)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()
