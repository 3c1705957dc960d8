"""An explicit-coordinate case's region maps: a panel per component, drawn from its boxes."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

import verify
import verify.analysis.region_rows as region_rows
import verify.analysis.regions as regions_module
from verify.analysis.regions import Region
from verify.reporting.plots import REGION_COLOURS, render_region_map

DOMAIN: tuple[tuple[float, float], tuple[float, float]] = ((-2.0, 2.0), (0.2, 2.0))
WHOLE = ((-2.0, 2.0), (0.2, 2.0))


def pixels(image: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(image)).convert("RGB")).astype(int)


def share_of(image: np.ndarray, label: str) -> float:
    colour = [int(REGION_COLOURS[label][i : i + 2], 16) for i in (1, 3, 5)]
    return float(np.all(image == colour, axis=-1).mean())


def test_two_rows_put_the_mu_panels_above_the_sigma_panels() -> None:
    labels = {"mu1": "pathwise", "mu2": "score", "sigma1": "infinite", "sigma2": "score"}
    panels = {name: [Region(WHOLE, label)] for name, label in labels.items()}
    image = pixels(render_region_map(panels, DOMAIN, "layout", rows=2))
    height, width = image.shape[:2]
    quarters = {
        "mu1": image[: height // 2, : width // 2],
        "mu2": image[: height // 2, width // 2 :],
        "sigma1": image[height // 2 :, : width // 2],
        "sigma2": image[height // 2 :, width // 2 :],
    }
    for name, quarter in quarters.items():
        # Each panel fills about half of its quarter (the rest is margins and labels);
        # a one-row layout, or panels in another order, leaves some quarter without it.
        assert share_of(quarter, labels[name]) > 0.3, name
        for other in {"pathwise", "score", "infinite"} - {labels[name]}:
            assert share_of(quarter, other) < 0.01, (name, other)


def test_the_report_draws_each_combinations_boxes_and_links_the_map(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monomial = verify.Case("z1**2 * z2", name="monomial", dimension=2)
    written = verify.report(monomial, tmp_path / "proven", samples=2**12)
    assert "![proven, all](monomial/region-map-1.png)" in written.markdown
    proven = pixels((tmp_path / "proven" / "monomial" / "region-map-1.png").read_bytes())
    # Pathwise is proven lower everywhere (the report's verdict): no score pixel but the
    # legend's patch (under 1e-4 of the image).
    assert share_of(proven, "pathwise") > 0.2
    assert share_of(proven, "score") < 1e-3

    labeller = regions_module.closed_form_labeller

    def flipped(*arguments: object, **keywords: object) -> object:
        inner = labeller(*arguments, **keywords)  # type: ignore[arg-type]
        return lambda box: "score" if box[0][0] >= 0 else inner(box)

    monkeypatch.setattr(region_rows, "closed_form_labeller", flipped)
    verify.report(monomial, tmp_path / "flipped", samples=2**12)
    image = pixels((tmp_path / "flipped" / "monomial" / "region-map-1.png").read_bytes())
    # Half of every panel's domain (mu >= 0) is now "score": a quarter of the pixels or so.
    assert share_of(image, "score") > 0.15


def test_no_images_writes_no_region_map(tmp_path: Path) -> None:
    from verify.api.report import process_case
    from verify.reporting.gather import ReportSettings

    monomial = verify.Case("z1**2 * z2", name="monomial", dimension=2)
    settings = ReportSettings(samples=2**12, seed=0, family_size=100)
    process_case(monomial, tmp_path, settings, images=False)
    assert (tmp_path / "monomial.md").exists()
    assert not (tmp_path / "monomial").exists()
