"""The maps' pixels: each box, value and crossover where it belongs; bytes from the input alone."""

from __future__ import annotations

import io

import numpy as np
import pytest

import verify.reporting.plots as plots
from verify.analysis.regions import UNDECIDED, Region
from verify.reporting.plots import (
    HATCH_COLOUR,
    REGION_COLOURS,
    region_raster,
    render_ratio_map,
    render_region_map,
)

DOMAIN: tuple[tuple[float, float], tuple[float, float]] = ((-3.0, 3.0), (0.0, 2.0))
MU = np.linspace(-3.0, 3.0, 41)
SIGMA = np.linspace(0.05, 2.0, 36)


def rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.uint8)


def pixels(image: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(image)).convert("RGB")).astype(int)


def count(image: np.ndarray, colour: str) -> int:
    return int(np.all(image == rgb(colour), axis=-1).sum())


def test_each_box_covers_its_pixels_and_an_undecided_one_stays_visible_however_small() -> None:
    # The undecided box, far smaller than a pixel, comes first: painted last all the same.
    tiny = Region(((-1.5, -1.4999), (1.0, 1.0001)), UNDECIDED)
    left = Region(((-3.0, 0.0), (0.0, 2.0)), "pathwise")
    right = Region(((0.0, 3.0), (0.0, 2.0)), "score")
    raster = region_raster([tiny, left, right], DOMAIN, (20, 60))
    # Rows are sigma upwards, columns mu: the tiny box is at sigma 1 (row 10), mu -1.5 (15).
    assert (raster[10, 15] == rgb(REGION_COLOURS[UNDECIDED])).all()
    raster[10, 15] = rgb(REGION_COLOURS["pathwise"])
    assert (raster[:, :30] == rgb(REGION_COLOURS["pathwise"])).all()
    assert (raster[:, 30:] == rgb(REGION_COLOURS["score"])).all()


def test_undecided_boxes_are_hatched() -> None:
    raster = region_raster([Region(DOMAIN, UNDECIDED)], DOMAIN, (70, 70))
    stripes = count(raster, HATCH_COLOUR)
    assert stripes + count(raster, REGION_COLOURS[UNDECIDED]) == 70 * 70
    assert stripes == pytest.approx(70 * 70 * 2 / plots.HATCH_PERIOD, rel=0.05)


def test_the_ratio_map_shows_undefined_values_grey_and_infinite_ones_at_the_scales_end() -> None:
    finite = np.tile(SIGMA[:, np.newaxis] - 1.0, (1, MU.size))
    undefined, infinite = finite.copy(), finite.copy()
    undefined[:5, :5] = np.nan
    infinite[:5, :5] = np.inf
    plain = pixels(render_ratio_map(MU, SIGMA, {"mu": finite}, "t"))
    grey = "#bbbbbb"  # also at the edges of some letters
    shown = pixels(render_ratio_map(MU, SIGMA, {"mu": undefined}, "t"))
    assert count(shown, grey) > count(plain, grey) + 200
    # The reddest colour of the scale, only in the colour bar without infinite values.
    reddest = "#67001f"
    shown = pixels(render_ratio_map(MU, SIGMA, {"mu": infinite}, "t"))
    assert count(shown, reddest) > count(plain, reddest) + 200


def test_the_crossover_is_drawn_only_where_the_ratio_changes_sign() -> None:
    crossing = np.tile(SIGMA[:, np.newaxis] - 1.0, (1, MU.size))
    # The same colour scale (largest |ratio| 1), so the same colour bar and text.
    one_signed = np.abs(crossing)

    def black(ratio: np.ndarray) -> int:
        image = pixels(render_ratio_map(MU, SIGMA, {"mu": ratio, "sigma": ratio}, "t"))
        return int(np.all(image < 40, axis=-1).sum())

    assert black(crossing) > black(one_signed) + 2 * 200


def test_a_maps_bytes_do_not_depend_on_the_maps_drawn_before_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The figures are reused: what one map drew must not show in the next."""
    crossing = np.tile(SIGMA[:, np.newaxis] - 1.0, (1, MU.size))
    other = np.tile(np.sin(MU) * 8.0, (SIGMA.size, 1))
    maps = {"mu": crossing, "sigma": crossing}
    first = render_ratio_map(MU, SIGMA, maps, "first")
    decided = {"mu": [Region(DOMAIN, "score")], "sigma": [Region(DOMAIN, "pathwise")]}
    regions = render_region_map(decided, DOMAIN, "first")
    assert render_ratio_map(2 * MU, SIGMA + 1, {"mu": other, "sigma": other}, "other") != first
    undecided = {"mu": [Region(DOMAIN, UNDECIDED)], "sigma": [Region(DOMAIN, "equal")]}
    assert render_region_map(undecided, ((0.0, 1.0), (5.0, 9.0)), "other") != regions
    assert render_ratio_map(MU, SIGMA, maps, "first") == first
    assert render_region_map(decided, DOMAIN, "first") == regions
    monkeypatch.setattr(plots, "_CANVASES", {})
    assert render_ratio_map(MU, SIGMA, maps, "first") == first
    assert render_region_map(decided, DOMAIN, "first") == regions


def test_maps_drawn_on_the_prepared_figures_are_those_of_fresh_figures(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """verify run prepares the figures before forking the cases: no trace of it may show."""
    ratio = np.tile(SIGMA[:, np.newaxis] - 1.0, (1, MU.size))
    decided = {"mu": [Region(DOMAIN, "score")], "sigma": [Region(DOMAIN, UNDECIDED)]}

    def maps() -> tuple[bytes, bytes]:
        ratios = render_ratio_map(MU, SIGMA, {"mu": ratio, "sigma": -ratio}, "a case")
        return ratios, render_region_map(decided, DOMAIN, "a case")

    monkeypatch.setattr(plots, "_CANVASES", {})
    fresh = maps()
    monkeypatch.setattr(plots, "_CANVASES", {})
    plots.prepare_figures()
    assert set(plots._CANVASES) == {("ratio", 2, 1), ("region", 2, 1)}
    assert maps() == fresh
