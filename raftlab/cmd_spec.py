"""``raftlab spec``: work with TLA+ spec files in the subset the spec checker
reads (``checkers.spec``, docs/spec-language.md); ``raftlab spec eval``
evaluates an expression in a spec's scope."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from raftlab import ui

if TYPE_CHECKING:
    from checkers.spec import Spec, Value
    from checkers.spec.check import SpecCheck
    from checkers.spec.itf_check import ItfCheck
    from traces.itf import ItfTrace

#: Registered as a group of sub-commands (raftlab/cli.py).
GROUP = True

SPEC_HELP = """Work with TLA+ spec files in the subset raftlab's spec checker reads.

`raftlab spec eval` evaluates an expression in a spec's scope (handy while
writing a spec); `raftlab spec check` checks a trace against a spec's
invariants and validates each step against the spec's actions.
docs/spec-language.md describes the subset, docs/spec-checking.md the
checking.
"""

EVAL_HELP = """Evaluate an expression in a spec's scope and print its value in TLA+ syntax.

The spec (a .tla file, or - to read it from standard input) is parsed and
its names resolved first; the expression may use the spec's definitions,
its CONSTANTS (give each one it reads a value with --const NAME=VALUE,
where VALUE is a TLA+ expression) and the operators of the standard
modules the spec EXTENDS. Variables have no value here.

Exit codes: 0 evaluated, 2 an error in the spec, the expression or a
constant (named with file, line, column and the offending text). 1 is not
used: evaluating judges nothing.

Examples:

  raftlab spec eval spec/Counter.tla 'Cardinality(SUBSET (1..N))' --const N=3

  raftlab spec eval spec/Counter.tla '[x \\in 1..N |-> x * x]' --const N=4 --json
"""


CHECK_HELP = """Check a trace against a spec: its named invariants in every state,
and (trace validation) each step against the spec's action for it.

SPEC is a .tla file with its mapping beside it (NAME.mapping.toml), or the
mapping file itself. TRACE is a raftlab trace, or an ITF document that
`raftlab export --format itf` wrote (a name ending in .json). The mapping
says which trace state field becomes which spec variable, which
properties to check, and which step is which action with which
parameters (docs/spec-checking.md). Every node step of the trace
(simulated, or a merged trace of a real cluster) gives a state: the state
invariants must hold in each, the step properties for each pair of
consecutive states, and each step the mapping names an action must be that
action: enabled in the state before it, with the step's fields as its
parameters, and allowing the state after it. A failure names the event
(seq), the property or action, and the values that differ (expected and
actual). --invariants-only skips trace validation.

An ITF trace of another tool (Quint's `quint run --out-itf`, Apalache's)
has no mapping: its variables are the spec's. Name what to check with
--invariant NAME (evaluated on every state) and --action NAME (every step
must be that action, usually Next; each one named), both repeatable;
--const gives the spec's CONSTANTS. A failure names the state by its index (states[3]).

Exit codes: 0 every property held and every step was its action, 1 one
failed, 2 bad input (a spec, mapping or trace that cannot be read, named in
one line).

Examples:

  raftlab spec check spec/RaftReconfig.tla run.jsonl

  raftlab spec check spec/RaftReconfig.mapping.toml run.jsonl.gz --json

  raftlab spec check spec/RaftReconfig.tla run.jsonl --invariants-only

  raftlab spec check Counter.tla counter.itf.json --invariant TypeOK --action Next
"""


def spec() -> typer.Typer:
    """The ``spec`` group and its sub-commands."""
    group = typer.Typer(no_args_is_help=True, add_completion=False)
    group.command("eval", help=EVAL_HELP)(evaluate)
    group.command("check", help=CHECK_HELP)(check)
    return group


def evaluate(
    spec_file: str = typer.Argument(
        ..., metavar="SPEC_OR_DASH", help="A .tla spec file, or - to read it from standard input."
    ),
    expr: str = typer.Argument(..., help="The expression to evaluate."),
    const: list[str] = typer.Option(
        [],
        "--const",
        metavar="NAME=VALUE",
        help="A CONSTANT's value as a TLA+ expression (repeat for each constant).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    from checkers.spec import SpecError, format_value

    try:
        loaded = _load(spec_file)
        constants = _constants(loaded, const)
        evaluator = loaded.evaluator(constants)
        value = evaluator.value(evaluator.parse(expr, "<expr>"))
        text = format_value(value)
    except SpecError as error:
        raise ui.fail(str(error)) from None
    if as_json:
        ui.print_json(eval_doc(spec_file, expr, constants, text))
    else:
        ui.out.print(text, markup=False, highlight=False, soft_wrap=True)


def eval_doc(spec_file: str, expr: str, constants: dict[str, Value], text: str) -> dict[str, Any]:
    """The result as JSON: the value in TLA+ syntax, with what it was evaluated in."""
    from checkers.spec import format_value

    return {
        "spec": spec_file,
        "expr": expr,
        "constants": {name: format_value(v) for name, v in sorted(constants.items())},
        "value": text,
    }


def _load(spec_file: str) -> Spec:
    from checkers.spec import Spec, SpecError

    if spec_file == "-":
        try:
            return Spec.from_text(sys.stdin.read(), "<stdin>")
        except UnicodeDecodeError:
            raise SpecError("standard input is not UTF-8 text", "<stdin>") from None
    return Spec.load(spec_file)


def _constants(loaded: Spec, given: list[str]) -> dict[str, Value]:
    """``--const NAME=VALUE`` options as values (each VALUE evaluated on its own)."""
    from checkers.spec import SpecError

    plain = loaded.evaluator()
    constants: dict[str, Value] = {}
    for item in given:
        name, sep, text = item.partition("=")
        name = name.strip()
        where = f"--const {item}"
        if not sep or not name:
            raise SpecError("expected --const NAME=VALUE", where)
        if name not in loaded.module.constants:
            declared = ", ".join(loaded.module.constants) or "none"
            raise SpecError(
                f"module {loaded.module.name} has no CONSTANT {name} (it declares: {declared})",
                where,
            )
        if name in constants:
            raise SpecError(f"constant {name} given twice", where)
        constants[name] = plain.value(plain.parse(text, f"--const {name}"))
    return constants


def check(
    spec_file: Path = typer.Argument(
        ..., metavar="SPEC", help="A .tla spec with NAME.mapping.toml beside it, or the mapping."
    ),
    trace: Path = typer.Argument(
        ..., help="A trace file (.jsonl or .jsonl.gz), or raftlab's ITF export (.json)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    invariants_only: bool = typer.Option(
        False, "--invariants-only", help="Check the invariants only: no trace validation."
    ),
    invariant: list[str] = typer.Option(
        [],
        "--invariant",
        metavar="NAME",
        help="An ITF trace of another tool: a state invariant to check (repeatable).",
    ),
    action: list[str] = typer.Option(
        [],
        "--action",
        metavar="NAME",
        help="An ITF trace of another tool: the action every step must be (repeatable).",
    ),
    const: list[str] = typer.Option(
        [],
        "--const",
        metavar="NAME=VALUE",
        help="With --invariant/--action: a CONSTANT's value as a TLA+ expression.",
    ),
) -> None:
    from checkers.spec import SpecError
    from traces.itf import ItfError, read_itf
    from traces.reader import TraceError

    named = bool(invariant or action or const)
    try:
        itf = read_itf(trace) if trace.name.endswith(".json") else None
        if named or (itf is not None and not _raftlab_export(itf)):
            actions = [] if invariants_only else action
            direct = check_foreign(spec_file, trace, itf, invariant, actions, const)
            _report_foreign(spec_file, trace, direct, as_json)
            return
        result = check_file(spec_file, trace, validate=not invariants_only, itf=itf)
    except (SpecError, TraceError, ItfError) as error:
        raise ui.fail(str(error)) from None
    except (KeyError, TypeError, ValueError) as error:
        raise ui.fail(f"{trace}: an event the spec projection cannot read: {error}") from None
    doc = check_doc(str(spec_file), str(trace), result)
    if as_json:
        ui.print_json(doc)
    else:
        for violation in result.violations:
            ui.out.print(violation.describe(), markup=False, highlight=False, soft_wrap=True)
        verdict = "FAIL" if result.violations else "ok"
        validated = (
            f", {result.validated} steps validated against its actions"
            + (
                f" ({result.unvalidated} recv steps without their message skipped)"
                if result.unvalidated
                else ""
            )
            if result.validate
            else ", no trace validation"
        )
        ui.out.print(
            f"{verdict}: {doc['states']} states of {trace} checked against "
            f"{len(doc['invariants'])} invariants and {len(doc['steps'])} step properties "
            f"of {result.mapping.spec.module.name}{validated}; "
            f"{len(result.violations) + result.suppressed} failure(s)",
            markup=False,
            highlight=False,
        )
    if result.violations:
        raise typer.Exit(1)


def _raftlab_export(itf: ItfTrace) -> bool:
    """Whether an ITF document has the variables raftlab's export writes."""
    from traces.export.itf import VARIABLES

    return set(VARIABLES) <= set(itf.vars)


def check_foreign(
    spec_file: Path,
    trace: Path,
    itf: ItfTrace | None,
    invariants: list[str],
    actions: list[str],
    const: list[str] | None = None,
) -> ItfCheck:
    """The named invariants and actions of SPEC (a .tla file, or a mapping,
    whose spec is used) on the states of ``itf``, the ITF trace read from
    ``trace`` (None: not an ITF file), whose variables are the spec's."""
    from checkers.spec import SpecError
    from checkers.spec.check import load_mapping
    from checkers.spec.itf_check import check_itf

    if itf is None:
        raise SpecError(
            "--invariant and --action check an ITF trace (a .json file); a raftlab trace "
            "is checked through the spec's mapping",
            str(trace),
        )
    if spec_file.name.endswith(".toml"):
        loaded = load_mapping(spec_file).spec
    else:
        loaded = _load(str(spec_file))
    constants = _constants(loaded, const or [])
    return check_itf(loaded, itf, invariants, actions, str(trace), constants)


def _report_foreign(spec_file: Path, trace: Path, result: ItfCheck, as_json: bool) -> None:
    from checkers.linearizability.report import plural

    doc = {
        "spec": str(spec_file),
        "trace": str(trace),
        "states": result.states,
        "invariants": list(result.invariants),
        "actions": list(result.actions),
        "validated": result.validated,
        "violations": [v.to_json() for v in result.violations],
        "suppressed": result.suppressed,
        "ok": not result.violations,
    }
    if as_json:
        ui.print_json(doc)
    else:
        for violation in result.violations:
            text = violation.describe(f"states[{violation.witnesses[0]}]")
            ui.out.print(text, markup=False, highlight=False, soft_wrap=True)
        verdict = "FAIL" if result.violations else "ok"
        steps = max(result.states - 1, 0)
        actions = " and ".join(result.actions)
        validated = f", {plural(steps, 'step')} validated against {actions}" if actions else ""
        failures = len(result.violations) + result.suppressed
        ui.out.print(
            f"{verdict}: {plural(result.states, 'state')} of {trace} checked against "
            f"{plural(len(result.invariants), 'invariant')} of {result.spec.module.name}"
            f"{validated}; {plural(failures, 'failure')}",
            markup=False,
            highlight=False,
        )
    if result.violations:
        raise typer.Exit(1)


def check_file(
    spec_file: Path, trace: Path, validate: bool = True, itf: ItfTrace | None = None
) -> SpecCheck:
    """Check a raftlab trace, or an ITF document that ``raftlab export
    --format itf`` wrote (``itf``, read from ``trace``); ``validate`` checks
    each step against its action too."""
    from checkers.spec.check import check_events, check_steps, load_mapping
    from checkers.spec.itf_steps import itf_steps
    from traces.reader import TraceError, open_trace

    mapping = load_mapping(mapping_path(spec_file))
    if itf is not None:
        return check_steps(mapping, itf_steps(itf, str(trace)), validate)
    _header, events = open_trace(trace)
    result = check_events(mapping, events, validate)
    integrity = events.drain()
    if integrity.state == "tampered":
        raise TraceError(str(trace), 0, f"not checked: {integrity.message}")
    return result


def mapping_path(spec_file: Path) -> Path:
    """The mapping for SPEC: the file itself if it is one, else NAME.mapping.toml beside it."""
    if spec_file.name.endswith(".toml"):
        return spec_file
    return spec_file.with_name(spec_file.name.removesuffix(".tla") + ".mapping.toml")


def check_doc(spec_file: str, trace: str, result: SpecCheck) -> dict[str, Any]:
    """The result as JSON: what was checked and every failure."""
    return {
        "spec": spec_file,
        "mapping": result.mapping.file,
        "trace": trace,
        "states": result.states,
        "invariants": list(result.mapping.invariants),
        "steps": list(result.mapping.steps),
        "validated": result.validated,
        "unvalidated": result.unvalidated,
        "trace_validation": result.validate,
        "violations": [v.to_json() for v in result.violations],
        "suppressed": result.suppressed,
        "ok": not result.violations,
    }
