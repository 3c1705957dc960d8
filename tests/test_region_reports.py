"""Issue 22 item 4: the reports' verdicts and shares come from the proven regions."""

from __future__ import annotations

import io
import itertools
import re
import types
from pathlib import Path

import pytest

import verify
import verify.analysis.region_rows as region_rows
import verify.analysis.regions as regions_module
from verify.analysis.region_verdicts import GRID, RegionVerdict, RowShares
from verify.analysis.regions import UNDECIDED, search_regions, shares
from verify.analysis.verdicts import ComponentVerdict
from verify.exact.box_enclosure import Box
from verify.reporting.index import render_index
from verify.reporting.region_report import gather_regions

DOMAIN: tuple[tuple[float, float], tuple[float, float]] = ((-3.0, 3.0), (0.1, 3.0))
LABELS = ("score", "pathwise", "equal", UNDECIDED, "infinite")
GRID_VERDICT = ComponentVerdict("mu", 0.5, ("k=1",), 0.0, False, False)


def boundary_verdict(c: float, boxes: int) -> RegionVerdict:
    """The verdict when the score function wins exactly on mu > c (true share (3 - c) / 6)."""

    def label(box: Box) -> str | None:
        (low, high), _ = box
        return "score" if low > c else "pathwise" if high < c else None

    search = search_regions(label, DOMAIN, 2.0**-10, 3600.0, boxes)
    row = RowShares("k=1", shares(search, LABELS), "closed-form", search.boxes_examined)
    return RegionVerdict("mu", (row,), GRID_VERDICT, boxes)


def printed_interval(text: str) -> tuple[float, float]:
    match = re.search(r"score lower in ([0-9.]+)-([0-9.]+)%", text)
    assert match is not None, text
    return float(match.group(1)) / 100, float(match.group(2)) / 100


@pytest.mark.parametrize("c", [0.0, 0.7, 1.0, -2.2])
def test_the_printed_interval_contains_the_true_share(c: float) -> None:
    verdict = boundary_verdict(c, 400)
    low, high = printed_interval(verdict.label)
    assert low <= (3 - c) / 6 <= high
    assert high - low < 0.1  # the budget decides all but a strip along mu = c
    assert verdict.status == "bounds"
    assert "undecided within the box budget" in verdict.label


def test_the_verdict_text_follows_the_regions() -> None:
    # Moved out of the domain, the score function wins nowhere: proven, in words.
    assert boundary_verdict(3.5, 400).label == "pathwise lower everywhere (proven over the domain)"
    assert boundary_verdict(-3.5, 400).short == "score lower in 100.0% (proven)"


def test_a_quadrature_or_uncertified_component_is_a_grid_estimate_in_words() -> None:
    quadrature = RegionVerdict("mu", (RowShares("k=1", {UNDECIDED: 1.0}, "quadrature", 0),),
                               GRID_VERDICT, 100)  # fmt: skip
    uncertified = RegionVerdict("mu", (RowShares("k=1", {UNDECIDED: 1.0}, "uncertified", 1),),
                                GRID_VERDICT, 100)  # fmt: skip
    assert quadrature.status == uncertified.status == GRID
    assert "(grid estimate: the variances need box quadrature" in quadrature.label
    assert "(grid estimate: no certified enclosure" in uncertified.label
    assert uncertified.loses_somewhere is None


def quadratic() -> verify.Case:
    return verify.Case("(z - k)**2", name="quadratic", parameters={"k": [1]})


def test_a_flipped_region_changes_the_report_and_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proven = verify.report(quadratic(), tmp_path / "proven", samples=2**10)
    assert "| $\\mu$ | pathwise lower everywhere (proven over the domain) | proven |" in (
        proven.markdown
    )
    labeller = regions_module.component_labeller

    def flipped(*arguments: object, **keywords: object) -> object:
        # The score function "proven" lower wherever mu >= 0: half of the domain.
        inner = labeller(*arguments, **keywords)  # type: ignore[arg-type]
        assert inner is not None
        return lambda box: "score" if box[0][0] >= 0 else inner(box)

    monkeypatch.setattr(region_rows, "component_labeller", flipped)
    written = verify.report(quadratic(), tmp_path / "flipped", samples=2**10)
    assert "| $\\mu$ | score lower in 50.0% of the domain (proven; k=1) | proven |" in (
        written.markdown
    )
    page = render_index([written.record["index"]], {})
    assert (
        "| score lower in 50.0% (proven) | score lower in 50.0% (proven) | proven / proven |"
        in (page)
    )
    assert "**Score function wins somewhere** (1): [quadratic](quadratic.md)." in page


def test_the_index_says_grid_estimate_for_an_uncertified_component(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(region_rows, "component_labeller", lambda *a, **k: None)
    written = verify.report(quadratic(), tmp_path, samples=2**10)
    assert "(grid estimate: no certified enclosure" in written.markdown
    assert "| uncertified | 1 |" in written.markdown
    page = render_index([written.record["index"]], {})
    assert "| grid estimate (100% undecided) / grid estimate (100% undecided) |" in page
    # Placed by the grid, not proven: marked.
    assert "**Pathwise wins everywhere** (1): [quadratic](quadratic.md)*." in page


def test_report_regions_do_not_depend_on_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    case = verify.Case("cos(k*z)", name="cosine", parameters={"k": [2]})
    grid = {p: GRID_VERDICT for p in ("mu", "sigma")}
    _, first = gather_regions(case, [{"k": 2.0}], grid, ["k=2"])
    # A machine some 300 times slower: every reading of the clock 0.1 s after the last.
    ticks = itertools.count(0.0, 0.1)
    clock = types.SimpleNamespace(perf_counter=lambda: next(ticks))
    monkeypatch.setattr(regions_module, "time", clock)
    _, slow = gather_regions(case, [{"k": 2.0}], grid, ["k=2"])
    assert [v.rows for v in first.values()] == [v.rows for v in slow.values()]
    assert first["mu"].label == slow["mu"].label
    assert first["mu"].status in ("proven", "bounds")


def yellow_pixels(image: bytes) -> int:
    import numpy as np
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(image)).convert("RGB")).astype(int)
    red, green, blue = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return int(np.sum((red > 220) & (green > 190) & (green < 230) & (blue < 110)))


def test_the_region_map_marks_undecided_boxes() -> None:
    from verify.analysis.regions import Region
    from verify.reporting.plots import render_region_map

    left, right = ((-3.0, 0.0), (0.1, 3.0)), ((0.0, 3.0), (0.1, 3.0))
    decided = {"mu": [Region(left, "pathwise"), Region(right, "score")]}
    undecided = {"mu": [Region(left, "pathwise"), Region(right, UNDECIDED)]}
    legend_only = yellow_pixels(render_region_map(decided, DOMAIN, "t"))
    assert yellow_pixels(render_region_map(undecided, DOMAIN, "t")) > legend_only + 1000
    assert render_region_map(decided, DOMAIN, "t") == render_region_map(decided, DOMAIN, "t")


def test_a_parameter_range_is_read_and_bad_ranges_are_one_line_errors(tmp_path: Path) -> None:
    from verify.cases.case import CaseError
    from verify.cases.case_files import load_case

    def case_file(value: str) -> Path:
        path = tmp_path / "ranged.toml"
        path.write_text(f'r = "cos(k*z)"\n[parameters]\nk = {value}\n', encoding="utf-8")
        return path

    case = load_case(case_file("{range = [0.5, 5]}"))
    assert case.ranges == {"k": (0.5, 5.0)}
    assert case.parameters == {"k": (0.5, 5.0)}  # the two ends, for the tables
    assert load_case(case_file("[0.5, 5]")).ranges == {}
    assert verify.Case("cos(k*z)", parameters={"k": {"range": [0.5, 5]}}).ranges == case.ranges
    for value, message in [
        ("{range = [5, 0.5]}", "parameters.k.range: low (5.0) must be less than high (0.5)"),
        ("{ranges = [0.5, 5]}", "parameters.k.ranges: unknown key; allowed keys here: range"),
        ("{range = [1, 2, 3]}", "parameters.k.range: must be a list [low, high] of two numbers"),
        ('"x"', "parameters.k: must be a number, a non-empty list of numbers or {range"),
    ]:
        with pytest.raises(CaseError) as error:
            load_case(case_file(value))
        assert message in str(error.value)
        assert "\n" not in str(error.value)


def test_a_range_is_mapped_continuously_with_the_crossing_enclosed(tmp_path: Path) -> None:
    from verify.cli import main

    path = tmp_path / "ranged.toml"
    path.write_text(
        'r = "cos(k*z)"\n[parameters]\nk = {range = [0.5, 4]}\n'
        "[reference]\nmu = 1.0\nsigma = 1.0\n",
        encoding="utf-8",
    )
    assert main(["run", "--samples", "10000", "--no-images", "--reports", str(tmp_path / "r"),
                 str(path)]) == 0  # fmt: skip
    text = (tmp_path / "r" / "ranged.md").read_text(encoding="utf-8")
    found = re.search(r"\| mu \| \[([0-9.]+), ([0-9.]+)\] \| pathwise \| score \|", text)
    assert found is not None
    low, high = float(found.group(1)), float(found.group(2))
    # verify crossover's root for mu (README), to 10 digits, lies in the proven interval.
    assert low <= 1.0637821963 <= high
    assert high - low <= 1e-6


def test_explicit_coordinates_get_verdicts_over_a_common_shift_and_scale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from verify.reporting.index_explicit import explicit_answer

    monomial = verify.Case("z1**2 * z2", name="monomial", dimension=2)
    written = verify.report(monomial, tmp_path / "proven", samples=2**12)
    assert "## Proven regions over a common shift and scale" in written.markdown
    for component in ("mu1", "mu2", "sigma1", "sigma2"):
        row = f"| {component} | pathwise lower everywhere (proven over the domain) | proven |"
        assert row in written.markdown
    labeller = regions_module.closed_form_labeller

    def flipped(*arguments: object, **keywords: object) -> object:
        inner = labeller(*arguments, **keywords)  # type: ignore[arg-type]
        return lambda box: "score" if box[0][0] >= 0 else inner(box)

    monkeypatch.setattr(region_rows, "closed_form_labeller", flipped)
    written = verify.report(monomial, tmp_path / "flipped", samples=2**12)
    row = "| mu2 | score lower in 50.0% of the domain (proven; all) | proven |"
    assert row in written.markdown
    page = "\n".join(explicit_answer([written.record["index"]]))
    assert "mu1: score lower in 50.0% (proven), mu2: score lower in 50.0% (proven)" in page
