"""TLA+'s aligned /\\ and \\/ lists: where an item ends and a list ends."""

from __future__ import annotations

import textwrap

import pytest

from checkers.spec import Spec, SpecError


def define(body: str, **values: object) -> object:
    """The value of ``A`` where the module holds ``body`` (dedented) after EXTENDS."""
    text = "---- MODULE L ----\nEXTENDS Naturals\n" + textwrap.dedent(body).strip("\n") + "\n===="
    evaluator = Spec.from_text(text, "L.tla").evaluator()
    return evaluator.value("A", {}, None, None)


def test_a_list_item_holds_everything_right_of_its_bullet() -> None:
    assert (
        define(
            r"""
            A == /\ FALSE
                    \/ TRUE
                 /\ TRUE
            """
        )
        is True
    )
    # read as (FALSE \/ TRUE) /\ TRUE: the \/ is right of the /\ column, so in item 1


def test_nested_lists_close_by_column() -> None:
    body = r"""
        A == \/ /\ FALSE
                /\ TRUE
             \/ /\ TRUE
                /\ TRUE
        """
    assert define(body) is True
    body_false = r"""
        A == /\ \/ FALSE
                \/ FALSE
             /\ TRUE
        """
    assert define(body_false) is False


def test_a_bullet_left_of_the_list_column_ends_the_list_and_is_infix() -> None:
    # The second /\ is left of the first: the list (one item) ends, and /\ joins
    # the list to FALSE as an ordinary infix conjunction.
    assert define("A == /\\ TRUE\n   /\\ FALSE") is False


def test_a_token_in_the_bullet_column_that_is_no_bullet_ends_the_list() -> None:
    body = r"""
        A == IF /\ TRUE
                /\ FALSE
             THEN 1
             ELSE 2
        """
    assert define(body) == 2


def test_closing_tokens_of_enclosing_constructs_end_the_list() -> None:
    assert define(r"A == (/\ TRUE /\ FALSE) = FALSE") is True
    assert define(r"A == IF /\ TRUE /\ TRUE THEN 1 ELSE 2") == 1
    assert define(r"A == {x \in 1..3 : /\ x > 1 /\ x < 3}") == frozenset({2})
    assert define(r"A == \E x \in {1, 2} : /\ x > 1") is True
    assert define(r"A == <</\ TRUE, \/ FALSE>>") == (True, False)
    assert define(r"A == LET b == /\ TRUE IN b") is True
    assert define(r"A == CASE /\ FALSE -> 1 [] OTHER -> 2") == 2


def test_lists_inside_quantifiers_ifs_and_lets_across_lines() -> None:
    body = r"""
        A == /\ \A x \in 1..3 :
                  /\ x > 0
                  /\ x < 4
             /\ LET y == 2
                    z == /\ y = 2
                         /\ TRUE
                IN z
             /\ IF TRUE
                THEN /\ TRUE
                     /\ TRUE
                ELSE FALSE
             /\ CASE FALSE -> FALSE
                  [] OTHER -> TRUE
        """
    assert define(body) is True


def test_a_definition_after_a_list_starts_a_new_unit() -> None:
    body = r"""
        B == /\ TRUE
             /\ 1 = 1
        A == B
        """
    assert define(body) is True


def test_a_token_left_of_the_bullet_inside_a_bracket_is_an_error() -> None:
    with pytest.raises(SpecError) as info:
        define("A == /\\ (TRUE\n  /\\ FALSE)")
    error = info.value
    assert (error.file, error.line, error.column) == ("L.tla", 4, 3)
    assert "not right of the bullet at line 3, column 6" in error.message


def test_a_list_that_ends_too_early_names_the_spot() -> None:
    with pytest.raises(SpecError) as info:
        define("A == /\\ 1 +\n/\\ 2")
    assert info.value.line == 3 and "bullet list" in info.value.message


def test_a_list_in_an_argument_ends_at_the_comma_and_a_let_body_at_in() -> None:
    body = r"""
        F(p, q) == p /\ q
        A == /\ F(/\ TRUE
                  /\ TRUE, TRUE)
             /\ LET v == /\ TRUE
                         /\ FALSE
                IN ~v
        """
    assert define(body) is True


def test_a_first_item_on_the_next_line_sets_the_column() -> None:
    body = r"""
        A ==
          \/ FALSE
          \/ /\ TRUE
             /\ TRUE
        """
    assert define(body) is True
