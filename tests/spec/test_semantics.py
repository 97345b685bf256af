"""Every operator of the subset against values computed by hand."""

from __future__ import annotations

import pytest

from checkers.spec import Fn, SpecError, format_value
from tests.spec.helpers import ev

R = Fn({"a": 1, "b": (1, 2)})

CASES = [
    # booleans and the junctions
    (r"TRUE /\ FALSE", False),
    (r"TRUE \/ FALSE", True),
    (r"~TRUE", False),
    (r"FALSE => (1 \div 0 = 1)", True),  # => does not evaluate its right side when false
    (r"TRUE => FALSE", False),
    (r"TRUE <=> TRUE", True),
    (r"FALSE <=> TRUE", False),
    (r"FALSE /\ (1 \div 0 = 1)", False),  # /\ short-circuits
    (r"TRUE \/ (1 \div 0 = 1)", True),
    (r"\lnot FALSE \land TRUE", True),
    # integers
    ("2 + 3 * 4", 14),
    ("(2 + 3) * 4", 20),
    ("10 - 3 - 2", 5),
    (r"7 \div 2", 3),
    (r"(-7) \div 2", -4),  # \div rounds down
    (r"-7 \div 2", -3),  # \div binds tighter than unary minus: -(7 \div 2)
    ("7 % 3", 1),
    ("-7 % 3", 2),  # unary minus binds tighter than %: (-7) % 3, in 0..2
    ("- 2 * 3", -6),
    ("3 < 4", True),
    ("4 <= 4", True),
    ("4 =< 3", False),
    ("5 > 5", False),
    ("5 >= 5", True),
    ("1 # 2", True),
    ("1 /= 1", False),
    ("Fact(5)", 120),
    ("Twice", 6),
    # sets
    ("{1, 2, 2}", frozenset({1, 2})),
    ("{}", frozenset()),
    ("1..4", frozenset({1, 2, 3, 4})),
    ("3..2", frozenset()),
    (r"2 \in {1, 2}", True),
    (r"3 \notin {1, 2}", True),
    (r"{1} \subseteq {1, 2}", True),
    (r"{3} \subseteq {1, 2}", False),
    (r"{1, 2} \cup {2, 3}", frozenset({1, 2, 3})),
    (r"{1, 2} \cap {2, 3}", frozenset({2})),
    (r"{1, 2, 3} \ {2}", frozenset({1, 3})),
    (r"{x \in 1..6 : x % 2 = 0}", frozenset({2, 4, 6})),
    (r"{x * 10 : x \in {1, 2}}", frozenset({10, 20})),
    (r"{x + y : x \in {1, 2}, y \in {10}}", frozenset({11, 12})),
    (r"{<<a, b>> : a, b \in {0, 1}}", frozenset({(0, 0), (0, 1), (1, 0), (1, 1)})),
    ("UNION {{1}, {2, 3}, {}}", frozenset({1, 2, 3})),
    ("SUBSET {1, 2}", frozenset({frozenset(), frozenset({1}), frozenset({2}), frozenset({1, 2})})),
    ("Cardinality({4, 5, 6})", 3),
    ("Cardinality(SUBSET (1..4))", 16),
    ("Sum({1, 2, 3, 4})", 10),
    ("IsFiniteSet({1})", True),
    (r"3 \in Nat", True),
    (r"-3 \in Nat", False),
    (r"-3 \in Int", True),
    (r"TRUE \in BOOLEAN", True),
    (r"{1, 2} \subseteq Nat", True),
    # quantifiers and CHOOSE
    (r"\A k \in 1..3 : k > 0", True),
    (r"\A k \in 1..3 : k > 1", False),
    (r"\E k \in 1..3 : k > 2", True),
    (r"\E k \in {} : TRUE", False),
    (r"\A k \in {} : FALSE", True),
    (r"\A a, b \in {1, 2} : a + b <= 4", True),
    (r"\E a \in {1, 2}, b \in {3} : a + b = 5", True),
    (r"CHOOSE k \in 1..9 : k * k > 10", 4),
    # functions and records
    (r"[k \in 1..3 |-> k * k]", (1, 4, 9)),
    (r"[k \in {0, 1} |-> k + 1][0]", 1),
    (r"[k \in {0, 1} |-> k + 1]", Fn({0: 1, 1: 2})),
    (r"[a, b \in {0, 1} |-> a + b][1, 1]", 2),
    (r"DOMAIN [k \in {5, 6} |-> 0]", frozenset({5, 6})),
    # x \in DOMAIN f asks f without building the domain: the same answers
    (r"2 \in DOMAIN <<4, 5>>", True),
    (r"3 \in DOMAIN <<4, 5>>", False),
    (r"0 \notin DOMAIN <<4>>", True),
    (r"<<1, 2>> \in DOMAIN (<<1, 2>> :> 3)", True),
    (r"<<2, 1>> \in DOMAIN (<<1, 2>> :> 3)", False),
    (r"6 \in DOMAIN [k \in {5, 6} |-> 0]", True),
    ('"b" \\notin DOMAIN [a |-> 1]', True),
    ("[a |-> 1, b |-> <<1, 2>>]", R),
    ("[a |-> 1, b |-> 2].b", 2),
    ("DOMAIN [a |-> 1, b |-> 2]", frozenset({"a", "b"})),
    ("[[a |-> 1] EXCEPT !.a = @ + 1]", Fn({"a": 2})),
    ("[<<1, 2, 3>> EXCEPT ![2] = 20]", (1, 20, 3)),
    ("[<<1, 2, 3>> EXCEPT ![2] = 20, ![3] = @ * 2]", (1, 20, 6)),
    ("[[a |-> <<1, 2>>] EXCEPT !.a[2] = @ + 5]", Fn({"a": (1, 7)})),
    ("[[k \\in {1, 2} |-> [c |-> k]] EXCEPT ![2].c = 0][2]", Fn({"c": 0})),
    ("[<<<<1, 2>>>> EXCEPT ![1][2] = 9]", ((1, 9),)),
    ("[<<1>> EXCEPT ![5] = 0]", (1,)),  # a key outside the domain changes nothing
    ("[{1, 2} -> {0}]", frozenset({(0, 0)})),
    ("Cardinality([{1, 2} -> {0, 1}])", 4),
    # membership in [S -> T] and SUBSET S is decided without building the set
    ("<<1, 2>> \\in [{1, 2} -> {1, 2}]", True),
    ("<<1, 3>> \\in [{1, 2} -> {1, 2}]", False),
    ("<<1>> \\in [{1, 2} -> {1, 2}]", False),
    ('[a |-> 7] \\in [{"a"} -> Nat]', True),
    ("[k \\in 1..30 |-> 0] \\in [1..30 -> {0, 1}]", True),
    ("{1} \\in SUBSET {1, 2}", True),
    ("{41} \\notin SUBSET (1..40)", True),
    ("1 :> 2 @@ 3 :> 4", Fn({1: 2, 3: 4})),
    ("(1 :> 2 @@ 1 :> 3)[1]", 2),  # the left function wins
    ("[k \\in 1..2 |-> k] = <<1, 2>>", True),  # a function on 1..n is the sequence
    # tuples and sequences
    ('<<1, TRUE, "s">>', (1, True, "s")),
    ("<<>>", ()),
    ("<<5, 6>>[2]", 6),
    ("Len(<<1, 2, 3>>)", 3),
    ("Len(<<>>)", 0),
    ("Append(<<1>>, 2)", (1, 2)),
    ("Head(<<7, 8>>)", 7),
    ("Tail(<<7, 8, 9>>)", (8, 9)),
    ("Tail(<<7>>)", ()),
    ("SubSeq(<<1, 2, 3, 4>>, 2, 3)", (2, 3)),
    ("SubSeq(<<1, 2, 3>>, 3, 2)", ()),
    (r"<<1>> \o <<2, 3>>", (1, 2, 3)),
    (r"<<1, 2>> \in Seq({1, 2})", True),
    (r"<<1, 3>> \in Seq({1, 2})", False),
    ('"ab" \\o "c"', "abc"),
    ('Len("abc")', 3),
    ("DOMAIN <<4, 5>>", frozenset({1, 2})),
    # control
    ("IF 1 < 2 THEN 10 ELSE 20", 10),
    ("IF 1 > 2 THEN 10 ELSE 20", 20),
    ("CASE 1 > 2 -> 1 [] 2 > 1 -> 2", 2),
    ("CASE 1 > 2 -> 1 [] OTHER -> 3", 3),
    ("LET a == 2 b(k) == k + a IN b(a)", 4),
    ("LET sq(k) == k * k IN {sq(k) : k \\in 1..3}", frozenset({1, 4, 9})),
    # strings and equality of values
    ('"a" = "a"', True),
    ("{1, 2} = {2, 1}", True),
    ("<<1, 2>> = <<2, 1>>", False),
    ("[a |-> 1] = [a |-> 1]", True),
    ("[a |-> 1] = <<1>>", False),
    ('Assert(TRUE, "never")', True),
    ("<<4, 5>>[2]", 5),
    ('[a |-> 1, b |-> 2]["b"]', 2),
    ("[k \\in {3} |-> k * 2][3]", 6),
    ("2 - 5 * 3", -13),
    ("3 >= 3 /\\ 2 < 3 /\\ ~(3 <= 2) /\\ ~(2 > 3)", True),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_operator_gives_the_hand_computed_value(text: str, expected: object) -> None:
    value = ev(text)
    assert value == expected
    assert type(value) is type(expected)


FAILURES = [
    ("1 \\div 0", "division by zero"),
    ("1 % 0", "positive divisor"),
    ("1 = TRUE", "cannot compare an integer"),
    ("{1, TRUE}", "both booleans and integers"),
    ("1 + TRUE", "expected an integer"),
    ("~1", "needs a boolean"),
    ("Head(<<>>)", "empty sequence"),
    ("<<1>>[2]", "not in the domain"),
    ("<<1>>[0]", "not in the domain"),
    ("<<1>>[TRUE]", "not in the domain"),
    ('[a |-> 1]["b"]', "not in the domain"),
    ("[k \\in {3} |-> k][4]", "not in the domain"),
    ("1[1]", "is not a function"),
    ("[a |-> 1].b", "no field b"),
    ("CASE FALSE -> 1", "no CASE arm"),
    ("CHOOSE k \\in {1} : k > 1", "CHOOSE found no element"),
    ("\\A k \\in Nat : k > 0", "infinite set"),
    ("SubSeq(<<1>>, 1, 2)", "outside 1..1"),
    ("SUBSET (1..21)", "too large"),
    ('Assert(FALSE, "boom")', "assertion failed"),
    ("x + 1", "variable x has no value"),
    ("x'", "needs a next state"),
    ("{1} \\cup {FALSE}", "both booleans and integers"),
    ("TRUE \\in DOMAIN <<1>>", "cannot compare a boolean"),
    ("1 \\in DOMAIN 5", "DOMAIN needs a function"),
]


@pytest.mark.parametrize(("text", "message"), FAILURES, ids=[f[0] for f in FAILURES])
def test_an_undefined_operation_is_a_spec_error_naming_the_spot(text: str, message: str) -> None:
    with pytest.raises(SpecError) as info:
        ev(text)
    assert message in info.value.message
    assert info.value.file == "<expr>" and info.value.line == 1 and info.value.column >= 1
    assert info.value.text  # the offending text is quoted


def test_primed_variables_read_the_next_state_and_unchanged_compares_both() -> None:
    now, nxt = {"x": 1, "y": 5}, {"x": 2, "y": 5}
    assert ev("x' - x", now, nxt) == 1
    assert ev("(x + y)'", now, nxt) == 7
    assert ev("N' = N", now, nxt) is True  # a constant is the same in every state
    assert ev("UNCHANGED y", now, nxt) is True
    assert ev("UNCHANGED <<x, y>>", now, nxt) is False
    assert ev("[x' = x + 1]_<<x, y>>", now, nxt) is True
    assert ev("[FALSE]_<<y>>", now, nxt) is True  # a stuttering step for y
    assert ev("<<x' = x + 1>>_x", now, nxt) is True
    assert ev("<<TRUE>>_y", now, nxt) is False


def test_values_print_in_tla_syntax() -> None:
    assert format_value(ev("{3, 1, 2}")) == "{1, 2, 3}"
    assert format_value(ev("[b |-> <<1>>, a |-> {TRUE}]")) == "[a |-> {TRUE}, b |-> <<1>>]"
    assert format_value(ev('1 :> "x" @@ 0 :> "y"')) == '(0 :> "y" @@ 1 :> "x")'
    assert format_value(ev('"q\\"uote"')) == '"q\\"uote"'
    assert format_value(ev("<<>>")) == "<<>>"
    assert format_value(ev("Nat")) == "Nat"
