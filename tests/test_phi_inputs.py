"""Bad input for the phi form (issue 11, part 3): one line naming the field, exit code 2.

Every checker of :mod:`verify.cases.phi` (the table), :func:`verify.api.case.complete_phi_point`
(the point) and :mod:`verify.exact.phi_point` (where the map gives no Gaussian or no
derivative) is shown a wrong input it catches, through ``verify evaluate`` or the API.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import verify
from verify.cases.case import CaseError
from verify.cases.case_files import load_case
from verify.cli import main


def write(tmp_path: Path, table: str, parameters: str = "x = [0.5, 2.0]\n") -> Path:
    path = tmp_path / "amortized.toml"
    path.write_text(f'r = "cos(z)"\n[parameters]\n{parameters}[parameterization]\n{table}')
    return path


SEED_TABLE = 'phi = ["w", "b", "v", "c"]\nmu = "w*x + b"\nsigma = "exp(v*x + c)"\n'


@pytest.mark.parametrize(
    ("table", "field", "message"),
    [
        (
            'phi = ["w", "b"]\nmu = "w*x + q"\nsigma = "exp(b)"\n',
            "parameterization.mu",
            "unknown name 'q'",
        ),
        (
            'phi = ["w", "b", "u"]\nmu = "w*x + b"\nsigma = "1"\n',
            "parameterization.phi",
            "'u' appears in neither",
        ),
        (
            'phi = ["w", "x"]\nmu = "w*x"\nsigma = "1"\n',
            "parameterization.phi",
            "is a case parameter",
        ),
        ('phi = ["w", "w"]\nmu = "w"\nsigma = "1"\n', "parameterization.phi", "listed twice"),
        ('phi = ["w", "sigma"]\nmu = "w"\nsigma = "1"\n', "parameterization.phi", "reserved"),
        (
            'phi = ["w", "exp"]\nmu = "w"\nsigma = "1"\n',
            "parameterization.phi",
            "function or constant",
        ),
        (
            'phi = ["w", "__class__"]\nmu = "w"\nsigma = "1"\n',
            "parameterization.phi",
            "not a valid name",
        ),
        ('phi = []\nmu = "1"\nsigma = "1"\n', "parameterization.phi", "non-empty list"),
        ('phi = "w"\nmu = "w"\nsigma = "1"\n', "parameterization.phi", "non-empty list"),
        ('phi = ["w"]\nmu = "w"\n', "parameterization.sigma", "needs both mu and sigma"),
        ('phi = ["w"]\nmu = "w"\nsigma = "exp(z)"\n', "parameterization.sigma", "unknown name 'z'"),
        ('phi = ["w"]\nmu = "w.__class__"\nsigma = "1"\n', "parameterization.mu", "attribute"),
        ('phi = ["w"]\nmu = "Heaviside(w)"\nsigma = "1"\n', "parameterization.mu", "jumps in 'w'"),
        ('phi = ["w"]\nmu = "w"\nsigma = "1"\ns = "2"\n', "parameterization.s", "allowed keys"),
        (
            'phi = ["w"]\nmu = "w"\nsigma = "1"\nreference = {q = 1}\n',
            "parameterization.reference",
            "not a phi name",
        ),
        (
            'phi = ["w"]\nmu = "w"\nsigma = "1"\nreference = {w = true}\n',
            "parameterization.reference.w",
            "number",
        ),
    ],
)
def test_bad_phi_tables_are_one_line_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], table: str, field: str, message: str
) -> None:
    path = write(tmp_path, table)
    with pytest.raises(CaseError) as caught:
        load_case(path)
    assert caught.value.field == field
    assert message in caught.value.message
    assert main(["evaluate", str(path), "--at", "mu=0", "--at", "sigma=1", "--at", "x=1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"{path}: {field}: ")


@pytest.mark.parametrize(
    ("at", "message"),
    [
        (
            ["w=0.5", "b=0.1", "v=0", "c=0", "x=0.5", "mu=0.3"],
            "at: mu: give the point either in mu and sigma or in phi",
        ),
        (["w=0.5", "b=0.1", "v=0", "x=0.5"], "at: missing value for c"),
        (["w=0.5", "b=0.1", "v=0", "c=0"], "at: missing value for x"),
        (["w=0.5", "b=0.1", "v=0", "c=0", "x=0.5", "q=1"], "NAME one of mu, sigma, w, b, v, c, x"),
        (["x=0.5"], "at: missing value for mu, sigma (or give the point in phi: w, b, v, c)"),
        (["w=0.5", "b=0.1", "v=0", "c=inf", "x=0.5"], "c: the value must be finite"),
    ],
)
def test_bad_points_are_one_line_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], at: list[str], message: str
) -> None:
    path = write(tmp_path, SEED_TABLE)
    assert main(["evaluate", str(path), *(f"--at={item}" for item in at)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert message in err


def test_sigma_must_be_positive_at_a_point_in_phi(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, 'phi = ["v", "c"]\nmu = "0"\nsigma = "v*x + c"\n')
    assert main(["evaluate", str(path), "--at=v=1", "--at=c=-1", "--at=x=0.5"]) == 2
    message = "sigma: sigma = v*x + c is -0.5 here, not provably > 0; sigma must be > 0"
    assert capsys.readouterr().err == f"{path}: at: {message}\n"
    with pytest.raises(CaseError, match=r"at: mu: mu = log\(v\) is not a finite real number"):
        verify.evaluate(
            verify.Case("cos(z)", parameterization={"phi": ["v"], "mu": "log(v)", "sigma": "1"}),
            v=-1,
        )


def test_a_map_without_a_finite_derivative_at_the_point_is_bad_input() -> None:
    case = verify.Case("cos(z)", parameterization={"phi": ["w"], "mu": "sqrt(w)", "sigma": "1"})
    with pytest.raises(CaseError, match=r"at: mu = sqrt\(w\) has no finite derivative in w here"):
        verify.evaluate(case, w=0)
    assert verify.evaluate(case, w=4).gradient("w") == pytest.approx(
        float(verify.evaluate(verify.Case("cos(z)"), mu=2, sigma=1).gradient("mu")) / 4
    )
