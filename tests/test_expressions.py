"""The allow-list parser: right SymPy objects in, clear one-line errors out, nothing run."""

from __future__ import annotations

import builtins
from pathlib import Path

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from verify.cases.expressions import ExpressionError, parse_expression
from verify.cases.grammar import ALLOWED_FUNCTIONS, CONSTANTS
from verify.cases.symbols import MU, SIGMA, Z, parameter_symbol

K = parameter_symbol("k")
NAMES = {"z": Z, "k": K}
GRAMMAR = "expressions use numbers, names, + - * / **, parentheses and calls to allowed functions"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cos(k*z)", sympy.cos(K * Z)),
        ("z**2 + 3*z - 1", Z**2 + 3 * Z - 1),
        ("0.1*z", sympy.Rational(1, 10) * Z),
        ("2.5e-3", sympy.Rational(1, 400)),
        ("-z/2", -Z / 2),
        ("+z", Z),
        ("exp(-z**2/2)/sqrt(2*pi)", sympy.exp(-(Z**2) / 2) / sympy.sqrt(2 * sympy.pi)),
        ("E**z", sympy.exp(Z)),
        ("log(1 + z**2)", sympy.log(1 + Z**2)),
        ("log(z, 2)", sympy.log(Z, 2)),
        ("abs(z) + Abs(k)", sympy.Abs(Z) + sympy.Abs(K)),
        ("heaviside(z - k)", sympy.Heaviside(Z - K)),
        ("Heaviside(z)", sympy.Heaviside(Z)),
        ("sign(z)", sympy.sign(Z)),
        ("min(z, 1) + Max(z, k, 0)", sympy.Min(Z, 1) + sympy.Max(Z, K, 0)),
        ("sigmoid(k*z)", 1 / (1 + sympy.exp(-K * Z))),
        ("softplus(z)", sympy.log(1 + sympy.exp(Z))),
        ("relu(z - 1)", sympy.Max(Z - 1, 0)),
        ("erf(z) + erfc(z) + atan(z)", sympy.erf(Z) + sympy.erfc(Z) + sympy.atan(Z)),
        ("tanh(z) * sinh(z) / cosh(z)", sympy.tanh(Z) * sympy.sinh(Z) / sympy.cosh(Z)),
        ("sin(z) + tan(z)", sympy.sin(Z) + sympy.tan(Z)),
        ("exp(exp(z))", sympy.exp(sympy.exp(Z))),
        ("(z + 1)**64", (Z + 1) ** 64),
        ("z**-3", Z**-3),
        ("z**0.5", sympy.sqrt(Z)),
        ("  z  ", Z),
    ],
)
def test_valid_expressions_build_the_expected_sympy_objects(
    text: str, expected: sympy.Expr
) -> None:
    result = parse_expression(text, NAMES)
    assert result == expected
    assert isinstance(result, sympy.Expr)


def test_floats_become_exact_rationals_and_ints_integers() -> None:
    assert parse_expression("0.3", NAMES) == sympy.Rational(3, 10)
    assert isinstance(parse_expression("7", NAMES), sympy.Integer)


def test_claim_names_use_the_shared_symbols() -> None:
    names = {"mu": MU, "sigma": SIGMA, "k": K}
    assert parse_expression("4*sigma**2 + mu*k", names, field="claims[1].equals") == (
        4 * SIGMA**2 + MU * K
    )


def test_exports_list_the_allow_list() -> None:
    required = {"exp", "log", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh", "atan"}
    required |= {"erf", "erfc", "Abs", "sign", "Heaviside", "Min", "Max", "abs", "min", "max"}
    required |= {"heaviside", "sigmoid", "softplus", "relu"}
    assert required <= set(ALLOWED_FUNCTIONS)
    assert set(CONSTANTS) == {"pi", "E"}


REJECTIONS = [
    # (text, what the message must name, what it must offer as allowed)
    ("().__class__.__base__", "attribute access", GRAMMAR),
    ("__builtins__", "unknown name '__builtins__'", "allowed names: z, k, pi, E"),
    ("q*z", "unknown name 'q'", "allowed names: z, k, pi, E"),
    ("z.real", "attribute access ('.')", GRAMMAR),
    ("z[0]", "subscripts", GRAMMAR),
    ("(lambda: z)()", "lambda", GRAMMAR),
    ("lambda z: z", "lambda", GRAMMAR),
    ("'abc'", "string literals", "int or float"),
    ("b'abc'", "string literals", "int or float"),
    ("f'{z}'", "string literals", GRAMMAR),
    ("1j*z", "complex numbers", "int or float"),
    ("True", "True", "int or float"),
    ("None", "None", "int or float"),
    ("log(z, base=2)", "keyword arguments", "log"),
    ("exp(*z)", "starred", GRAMMAR),
    ("foo(z)", "function 'foo' is not allowed", "allowed functions: Abs"),
    ("eval(z)", "function 'eval'", "allowed functions:"),
    ("k(z)", "function 'k'", "allowed functions:"),
    ("exp", "'exp' is a function", "exp(z)"),
    ("(2)(1)", "only allowed functions can be called", GRAMMAR),
    ("exp(z, 2)", "exp takes 1 arguments, got 2", "exp"),
    ("Max(z)", "Max takes 2 to 8 arguments, got 1", "Max"),
    ("(z + 1)**100000", "exponent 100000 is too large", "at most 64"),
    ("z**-65", "exponent -65 is too large", "at most 64"),
    ("z**(10*10)", "exponent 100 is too large", "at most 64"),
    ("z**40 * z**40", "exponent 80 is too large", "at most 64"),
    ("2**2**2**2**2", "too large", "at most 64"),
    ("(1e12**64)**2", "4096 bits", "keep constants"),
    ("1e13 * z", "too large", "at most 1e12"),
    ("1e400", "too large", "at most 1e12"),
    ("exp(exp(exp(z)))", "nested 3 deep", "at most 2 nested exponentials"),
    ("E**(E**(E**z))", "nested 3 deep", "at most 2 nested exponentials"),
    ("cosh(exp(sinh(z)))", "nested 3 deep", "at most 2 nested exponentials"),
    ("z < 1", "comparisons", GRAMMAR),
    ("z and 1", "boolean operators", GRAMMAR),
    ("not z", "operator 'not'", "+ - * / **"),
    ("z % 2", "operator '%'", "+ - * / **"),
    ("z // 2", "operator '//'", "+ - * / **"),
    ("[z]", "lists, tuples", GRAMMAR),
    ("(z, 1)", "lists, tuples", GRAMMAR),
    ("{z: 1}", "lists, tuples, sets and dicts", GRAMMAR),
    ("[z for z in ()]", "comprehensions", GRAMMAR),
    ("1 if z else 2", "conditional expressions", GRAMMAR),
    ("(y := 1)", "assignments", GRAMMAR),
    ("z; import os", "not a valid expression", GRAMMAR),
    ("import os", "not a valid expression", GRAMMAR),
    ("z +", "not a valid expression", GRAMMAR),
    ("z\x00", "not a valid expression", GRAMMAR),
    ("", "empty", GRAMMAR),
    ("1/0", "infinite, undefined or complex", "real and finite"),
    ("sqrt(-1)", "infinite, undefined or complex", "real and finite"),
    ("Max(sqrt(-1), 1)", "SymPy cannot build", "comparable"),
    ("-" * 1500 + "z", "parts", "at most 500"),
    ("-(" * 60 + "z" + ")" * 60, "nested more than 50", "levels"),
    ("(" * 250 + "z" + ")" * 250, "too many nested parentheses", GRAMMAR),
    ("z" * 2001, "2001 characters", "at most 2000"),
]


@pytest.mark.parametrize(
    ("text", "problem", "allowed"), REJECTIONS, ids=[repr(r[0][:24]) for r in REJECTIONS]
)
def test_rejections_name_the_problem_and_what_is_allowed(
    text: str, problem: str, allowed: str
) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text, NAMES)
    message = str(caught.value)
    assert problem in message
    assert allowed in message
    assert "\n" not in message
    assert "Traceback" not in message
    assert caught.value.field == "r"


def test_errors_carry_the_field_they_were_given() -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_expression("z", {"mu": MU}, field="claims[2].equals")
    assert caught.value.field == "claims[2].equals"
    assert "allowed names: mu, pi, E" in str(caught.value)


def test_import_attempt_runs_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    calls: list[str] = []
    real_import = builtins.__import__

    def spy(name: str, *args: object, **kwargs: object) -> object:
        calls.append(name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", spy)
    with pytest.raises(ExpressionError, match="attribute access"):
        parse_expression("__import__('os').system('touch x')", NAMES)
    monkeypatch.undo()
    assert not (tmp_path / "x").exists()
    assert "os" not in calls


def test_ten_megabyte_expression_is_rejected_by_length() -> None:
    with pytest.raises(ExpressionError, match="at most 2000"):
        parse_expression("z+" * 5_000_000 + "z", NAMES)


def test_deeply_nested_parentheses_are_rejected() -> None:
    with pytest.raises(ExpressionError, match="at most 2000"):
        parse_expression("(" * 10000 + "z" + ")" * 10000, NAMES)


def test_non_string_input_is_an_expression_error() -> None:
    with pytest.raises(ExpressionError, match="expected a string"):
        parse_expression(3, NAMES)  # type: ignore[arg-type]


# --- fuzzing ---------------------------------------------------------------------------

_ATOM_TEXTS = "z k pi E q __import__ __builtins__ exp 1 0 0.5 1e400 1e-320 True None 's' b'x' 1j"
_ATOMS = st.one_of(
    st.sampled_from([*_ATOM_TEXTS.split(), "...", "()", "[]", "{}"]),
    st.integers(-(10**14), 10**14).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)
_BINARY = ["+", "-", "*", "/", "**", "%", "//", "@", "<", "==", "and", "or", "&", "|", "^"]
_UNARY = ["-", "+", "not ", "~"]
_CALLEES = [*ALLOWED_FUNCTIONS, "foo", "eval", "getattr", "__import__", "k", "z"]


def _extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    pair = st.tuples(children, children)
    return st.one_of(
        st.tuples(children, st.sampled_from(_BINARY), children).map(" ".join).map("({})".format),
        st.tuples(st.sampled_from(_UNARY), children).map("".join),
        st.tuples(st.sampled_from(_CALLEES), st.lists(children, max_size=4)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"
        ),
        children.map(lambda c: f"{c}.__class__"),
        children.map(lambda c: f"{c}[0]"),
        children.map(lambda c: f"(lambda: {c})"),
        children.map(lambda c: f"[{c} for z in ()]"),
        children.map(lambda c: f"exp(x={c})"),
        children.map(lambda c: f"exp(*{c})"),
        children.map(lambda c: f"({c})({c})"),
        pair.map(lambda t: f"({t[0]} if {t[1]} else 0)"),
        pair.map(lambda t: f"({t[0]}, {t[1]})"),
    )  # fmt: skip


# 12 leaves: at 16 and at 25 hypothesis draws the very same 300 texts (its buffer ends
# the tree first) at ~50 ms each; at 12 the texts are as long (mean 34 and 37 characters,
# longest 192 and 172) and hit more distinct rejections (11 and 9), 6x faster.
EXPRESSION_TEXTS = st.recursive(_ATOMS, _extend, max_leaves=12)

# Mostly valid texts, to drive the SymPy-building half of the parser too.
_ALLOWED_ATOMS = st.one_of(
    st.sampled_from(["z", "k", "pi", "E", "0", "1", "2", "0.5", "1e12", "1e-300"]),
    st.integers(-100, 100).map(str),
)
_ONE_ARGUMENT = [name for name in ALLOWED_FUNCTIONS if name.lower() not in ("min", "max", "log")]


def _extend_allowed(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*", "/", "**"]), children)
        .map(" ".join)
        .map("({})".format),
        children.map("-({})".format),
        st.tuples(st.sampled_from(_ONE_ARGUMENT), children).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(["Min", "max", "log"]), children, children).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"
        ),
    )


ALLOWED_TEXTS = st.recursive(_ALLOWED_ATOMS, _extend_allowed, max_leaves=12)


def _parses_or_rejects_cleanly(text: str) -> None:
    outcome: sympy.Expr | ExpressionError
    try:
        outcome = parse_expression(text, NAMES)
    except ExpressionError as error:
        outcome = error
    if isinstance(outcome, ExpressionError):
        assert str(outcome)
        assert "\n" not in str(outcome)
    else:
        assert isinstance(outcome, sympy.Expr)


@settings(deadline=None, max_examples=300)
@given(EXPRESSION_TEXTS)
def test_fuzz_grammar_texts_parse_or_raise_expression_error(text: str) -> None:
    _parses_or_rejects_cleanly(text)


@settings(deadline=None, max_examples=300)
@given(ALLOWED_TEXTS)
def test_fuzz_allowed_grammar_texts_parse_or_raise_expression_error(text: str) -> None:
    _parses_or_rejects_cleanly(text)


@settings(deadline=None, max_examples=300)
@given(st.text(max_size=300))
def test_fuzz_random_text_parses_or_raises_expression_error(text: str) -> None:
    _parses_or_rejects_cleanly(text)


@settings(deadline=None, max_examples=200)
@given(st.text(alphabet="z()+-*/.e0123456789k,exp ", max_size=120))
def test_fuzz_near_miss_text_parses_or_raises_expression_error(text: str) -> None:
    _parses_or_rejects_cleanly(text)
