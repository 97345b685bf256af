"""Parse, name and evaluation errors name the file, line, column and text."""

from __future__ import annotations

from pathlib import Path

import pytest

from checkers.spec import Spec, SpecError, parse_expr

HEAD = "---- MODULE E ----\nEXTENDS Naturals\n"


def error_of(text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        Spec.from_text(text, "E.tla")
    return info.value


@pytest.mark.parametrize(
    ("body", "line", "column", "text", "message"),
    [
        ("A == 1 +\nB == 2\n", 4, 3, "==", "expected"),
        ("A == (1 + 2\n", 4, 1, "====", "expected"),
        ("A == 1 $ 2\n", 3, 8, "$", "a character outside the subset"),
        ("A == {1, 2\n", 4, 1, "====", "expected"),
        ("A == B\nB == 1\n", 3, 6, "B", "used before its definition"),
        ("A == Len(<<1>>)\n", 3, 6, "Len(<<1>>)", "EXTENDS Sequences"),
        ("A == 1 :> 2\n", 3, 6, "1 :> 2", "EXTENDS TLC"),
        ("A == nope\n", 3, 6, "nope", "unknown name nope"),
        ("A == 1\nA == 2\n", 4, 1, "A == 2", "defined twice"),
        ("F(a) == a\nA == F(1, 2)\n", 4, 6, "F(1, 2)", "takes 1 argument"),
        ("A == \\A x \\in {1}, y \\in {x} : TRUE\n", 3, 27, "x", "unknown name x"),
        ("A == [a |-> 1, a |-> 2]\n", 3, 6, "[a |-> 1, a |-> 2]", "field a given twice"),
        ("A ==\t1\n", 3, 5, "", "tab character"),
    ],
)
def test_errors_name_the_line_column_and_text(
    body: str, line: int, column: int, text: str, message: str
) -> None:
    error = error_of(HEAD + body + "====\n")
    assert (error.file, error.line, error.column) == ("E.tla", line, column), str(error)
    assert message in error.message
    assert error.text == text
    assert str(error).startswith(f"E.tla:{line}:{column}: ")


def test_a_module_needs_a_header_and_a_footer() -> None:
    assert "no module header" in error_of("A == 1\n").message
    assert "no module footer" in error_of("---- MODULE E ----\nA == 1\n").message


def test_text_around_the_module_is_ignored_and_positions_stay_true() -> None:
    error = error_of("notes\n\n---- MODULE E ----\nA == nope\n====\nmore notes (* *)\n")
    assert (error.line, error.column) == (4, 6)


def test_an_unknown_standard_module_is_refused() -> None:
    assert "EXTENDS Bags" in error_of("---- MODULE E ----\nEXTENDS Bags\n====\n").message


def test_evaluation_errors_inside_definitions_point_into_the_spec() -> None:
    spec = Spec.from_text(HEAD + "Div(a) == 10 \\div a\nA == Div(0)\n====\n", "E.tla")
    with pytest.raises(SpecError) as info:
        spec.evaluator().value("A")
    error = info.value
    assert (error.file, error.line, error.column) == ("E.tla", 3, 11)
    assert error.text == "10 \\div a" and "division by zero" in error.message


def test_an_expression_error_points_into_the_expression() -> None:
    with pytest.raises(SpecError) as info:
        parse_expr("1 +\n  * 2", "<expr>")
    assert (info.value.line, info.value.column, info.value.text) == (2, 3, "*")


def test_an_unreadable_spec_file_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        Spec.load(tmp_path / "missing.tla")
    assert "cannot read the spec" in str(info.value)


def test_comments_are_ignored() -> None:
    text = HEAD + "\\* a line comment\nA == (* a block\ncomment *) 1 \\* trailing\n====\n"
    assert Spec.from_text(text).evaluator().value("A") == 1
