"""Case files: good ones load with the right fields; every bad one is exactly one CaseError.

The bad-input corpus lives in ``tests/nasty``: one file per kind of mistake or attack,
each with a ``# expect-field: <field>`` line saying which field the error must name.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.cases.case import DEFAULT_DOMAIN, QUANTITY_NAMES, Case, CaseError, Domain
from verify.cases.case_files import discover_cases, load_case, load_cases
from verify.cases.estimators import ESTIMATOR_NAMES
from verify.cases.symbols import MU, SIGMA, Z, parameter_symbol

NASTY = Path(__file__).parent / "nasty"
CORPUS = sorted(NASTY.glob("*.toml"))

GOOD = """\
title = "High-frequency cosine"
r = "cos(k*z) + a*z**2"
description = "A *markdown* description."
source = "Mohamed et al. (2020), Section 3"

[parameters]
k = [0.5, 1.0, 2, 5.0]
a = 0.25

[domain]
mu = [-3.0, 3.0]
sigma = [0.1, 3.0]

[reference]
mu = 0.5

[[claims]]
quantity = "pathwise.variance.mu"
equals = "4*a**2*sigma**2 + mu*0"

[[claims]]
lower = "pathwise"
parameter = "sigma"
"""


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def _expected_field(path: Path) -> str:
    for line in path.read_bytes().decode("utf-8", errors="replace").splitlines():
        if line.startswith("# expect-field:"):
            return line.removeprefix("# expect-field:").strip()
    raise AssertionError(f"{path} has no '# expect-field:' line")


def _single_error(path: str | Path) -> CaseError:
    cases, errors = load_cases([path])
    assert cases == []
    assert len(errors) == 1
    with pytest.raises(CaseError) as caught:
        load_case(path)
    assert str(caught.value) == str(errors[0])
    return caught.value


def test_good_case_loads_with_the_right_fields(tmp_path: Path) -> None:
    path = _write(tmp_path, "cosine-hf.toml", GOOD)
    case = load_case(path)
    k, a = parameter_symbol("k"), parameter_symbol("a")
    assert isinstance(case, Case)
    assert case.name == "cosine-hf"
    assert case.path == path
    assert case.title == "High-frequency cosine"
    assert case.description == "A *markdown* description."
    assert case.source == "Mohamed et al. (2020), Section 3"
    assert case.r_text == "cos(k*z) + a*z**2"
    assert case.r == sympy.cos(k * Z) + a * Z**2
    assert case.parameters == {"k": (0.5, 1.0, 2.0, 5.0), "a": (0.25,)}
    assert case.parameter_names == ("k", "a")
    assert case.single_valued == {"a": 0.25}
    assert case.domain == Domain(mu=(-3.0, 3.0), sigma=(0.1, 3.0))
    assert case.reference == {"mu": 0.5, "sigma": 1.0}
    first, second = case.claims
    assert (first.index, first.kind, first.quantity) == (1, "equals", "pathwise.variance.mu")
    assert first.equals_text == "4*a**2*sigma**2 + mu*0"
    assert first.equals == 4 * a**2 * SIGMA**2
    assert (first.lower, first.parameter) == (None, None)
    assert (second.index, second.kind, second.lower, second.parameter) == (
        2,
        "lower",
        "pathwise",
        "sigma",
    )
    assert (second.quantity, second.equals_text, second.equals) == (None, None, None)


def test_minimal_case_gets_the_defaults(tmp_path: Path) -> None:
    case = load_case(_write(tmp_path, "square.toml", 'r = "z**2"\n'))
    assert case.title == "square"
    assert case.description == ""
    assert case.source is None
    assert case.parameters == {}
    assert case.domain == DEFAULT_DOMAIN == Domain(mu=(-2.0, 2.0), sigma=(0.2, 2.0))
    assert case.reference == {"mu": 1.0, "sigma": 1.0}
    assert case.claims == ()


def test_default_reference_is_clamped_into_the_domain(tmp_path: Path) -> None:
    text = 'r = "z"\n[domain]\nmu = [2.0, 4.0]\nsigma = [0.1, 0.5]\n'
    case = load_case(_write(tmp_path, "shifted.toml", text))
    assert case.reference == {"mu": 2.0, "sigma": 0.5}


def test_claims_use_mu_and_sigma_symbols(tmp_path: Path) -> None:
    text = 'r = "z**2"\n[[claims]]\nquantity = "objective"\nequals = "mu**2 + sigma**2"\n'
    (claim,) = load_case(_write(tmp_path, "square.toml", text)).claims
    assert claim.equals == MU**2 + SIGMA**2


def test_quantity_names_cover_every_estimator() -> None:
    assert {"objective", "gradient.mu", "gradient.sigma"} <= set(QUANTITY_NAMES)
    for estimator in ESTIMATOR_NAMES:
        for statistic in ("mean", "variance"):
            for parameter in ("mu", "sigma"):
                assert f"{estimator}.{statistic}.{parameter}" in QUANTITY_NAMES
    assert len(QUANTITY_NAMES) == 3 + 4 * len(ESTIMATOR_NAMES)


def test_corpus_is_not_empty() -> None:
    assert len(CORPUS) >= 20


@pytest.mark.parametrize("path", CORPUS, ids=[path.stem for path in CORPUS])
def test_nasty_corpus_file_gives_one_error_naming_its_field(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # so that a command that did run would leave a file here
    expected = _expected_field(path)
    error = _single_error(path)
    assert error.field == expected
    assert error.path == str(path)
    assert str(error).startswith(f"{path}: {expected}: ")
    assert "\n" not in str(error)
    assert "Traceback" not in str(error)
    assert list(tmp_path.iterdir()) == []


def test_invalid_toml_message_gives_line_and_column() -> None:
    error = _single_error(NASTY / "invalid_toml.toml")
    assert "line 3" in error.message
    assert "column" in error.message


def test_unknown_top_level_key_lists_the_allowed_keys() -> None:
    error = _single_error(NASTY / "unknown_top_level_key.toml")
    assert "parameters" in error.message
    assert "claims" in error.message


def test_huge_file_is_rejected_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.toml"
    path.write_bytes(b'r = "z"\n' + b"# padding padding padding\n" * 400_000)  # ~10 MB
    error = _single_error(path)
    assert error.field == "file"
    assert "64 KiB" in error.message


def test_deeply_nested_toml_is_a_case_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "deep.toml", 'r = "z"\nx = ' + "[" * 30_000 + "]" * 30_000 + "\n")
    assert _single_error(path).field == "file"


@pytest.mark.parametrize(("digits", "field"), [(400, "parameters.k"), (5000, "file")])
def test_huge_toml_integer_is_a_case_error(tmp_path: Path, digits: int, field: str) -> None:
    # 400 digits overflow float(); past 4300 digits Python's int() refuses inside tomllib.
    path = _write(tmp_path, "bigint.toml", 'r = "k*z"\n[parameters]\nk = ' + "9" * digits + "\n")
    assert _single_error(path).field == field


@pytest.mark.parametrize("stem", ["Bad Name!", "UPPER", "-leading-dash", "a" * 65, ".", "dot.ted"])
def test_unsafe_case_names_are_rejected(tmp_path: Path, stem: str) -> None:
    path = _write(tmp_path, f"{stem}.toml", 'r = "z"\n')
    error = _single_error(path)
    assert error.field == "name"
    assert str(error).startswith(f"{path}: name: ")


def test_traversal_like_path_is_judged_by_its_stem(tmp_path: Path) -> None:
    # A name like ../../etc/x cannot be a file name; the stem check is what guards reports.
    path = tmp_path / "..toml"
    path.write_text('r = "z"\n', encoding="utf-8")
    assert _single_error(path).field == "name"


def test_missing_file_and_directory_are_case_errors(tmp_path: Path) -> None:
    assert _single_error(tmp_path / "absent.toml").field == "file"
    (tmp_path / "folder.toml").mkdir()
    assert _single_error(tmp_path / "folder.toml").field == "file"


def test_duplicate_names_in_different_directories_are_reported(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    first = _write(tmp_path / "one", "same.toml", 'r = "z"\n')
    second = _write(tmp_path / "two", "same.toml", 'r = "z**2"\n')
    cases, errors = load_cases([first, second])
    assert [case.path for case in cases] == [first]
    (error,) = errors
    assert error.field == "name"
    assert error.path == str(second)
    assert "same" in error.message
    assert str(first) in error.message


def test_load_cases_collects_good_and_bad(tmp_path: Path) -> None:
    good = _write(tmp_path, "good.toml", 'r = "z"\n')
    cases, errors = load_cases([good, NASTY / "missing_r.toml", NASTY / "lambda.toml"])
    assert [case.name for case in cases] == ["good"]
    assert [error.field for error in errors] == ["r", "r"]


def test_discover_cases_lists_sorted_toml_files(tmp_path: Path) -> None:
    for name in ("b.toml", "a.toml", "notes.md"):
        _write(tmp_path, name, "")
    assert discover_cases(tmp_path) == [tmp_path / "a.toml", tmp_path / "b.toml"]
    assert discover_cases(NASTY) == CORPUS
    with pytest.raises(FileNotFoundError):
        discover_cases(tmp_path / "missing")


def test_case_error_string_format() -> None:
    error = CaseError("cases/x.toml", "parameters.k", "bad\nthing")
    assert str(error) == "cases/x.toml: parameters.k: bad thing"
    assert (error.path, error.field, error.message) == ("cases/x.toml", "parameters.k", "bad thing")


# --- fuzzing ---------------------------------------------------------------------------

_VALUES = st.one_of(
    st.integers(-(10**20), 10**20),
    st.floats(),
    st.booleans(),
    st.text(max_size=20),
    st.sampled_from(['"z"', '"cos(k*z)"', '"exp(exp(exp(z)))"', '"().__class__"']),
    st.lists(st.floats(), max_size=4),
)
_KEYS = st.sampled_from(["r", "title", "k", "mu", "sigma", "quantity", "equals", "lower", "x"])
_TABLES = st.sampled_from(["", "[parameters]", "[domain]", "[reference]", "[[claims]]", "[x]"])


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str) and not value.startswith('"'):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, float):
        return {"inf": "inf", "-inf": "-inf", "nan": "nan"}.get(repr(value), repr(value))
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)


_LINES = st.one_of(
    _TABLES,
    st.tuples(_KEYS, _VALUES).map(lambda t: f"{t[0]} = {_toml_value(t[1])}"),
    st.text(max_size=30),
)


def _loads_or_rejects_cleanly(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "fuzz.toml"
        path.write_bytes(data)
        outcome: Case | CaseError
        try:
            outcome = load_case(path)
        except CaseError as error:
            outcome = error
        if isinstance(outcome, CaseError):
            assert str(outcome).startswith(f"{path}: ")
            assert "\n" not in str(outcome)
        else:
            assert isinstance(outcome.r, sympy.Expr)


@settings(deadline=None, max_examples=200)
@given(st.lists(_LINES, max_size=12).map("\n".join))
def test_fuzz_toml_documents_load_or_raise_case_error(text: str) -> None:
    _loads_or_rejects_cleanly(text.encode("utf-8", errors="surrogatepass"))


@settings(deadline=None, max_examples=100)
@given(st.binary(max_size=200))
def test_fuzz_random_bytes_load_or_raise_case_error(data: bytes) -> None:
    _loads_or_rejects_cleanly(data)
