"""Every row of a file checked the way ``/lead`` checks a typed line, and turned into its Async body.

A row's lead fields go through :func:`kit.fields.validate_fields` with the identifier required — the
very call ``/lead name=… phone=…`` makes (commands/lead/command.py) — so a row and a typed line fail
for the same reasons, in the same words. Its payment columns are checked as ``/payment`` checks an
amount (:func:`kit.fields.normalize_amount`, the documented currencies and statuses), its
custom-action columns against the action's ``fieldSchema``.

A valid row becomes a :class:`~storage.imports.CheckedRow` whose ``body`` is exactly the Async
request (docs/API.md §4): ``{"fields": {…}, "actions": [{"type": "ACTION_1001", "fields": {…}},
{"type": "PAYMENT", …}]}``. A row repeating the identifier of an earlier valid row is a problem
(TeleCRM would apply both to one lead, the later silently winning). Problems are counted per kind
with their first examples (:class:`Tally`) and every problem row is written to a CSV with a
``reason`` column, as the rows stream by: nothing holds the whole file.
"""

from __future__ import annotations

import csv
import multiprocessing
import re
from collections import deque
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from kit.fields import ConvertMemo, FieldError, Problem, normalize_amount, validate_fields
from kit.format import DEFAULT_TZ
from kit.imports.mapping import PAYMENT_PREFIX, Mapping_, split_action_target
from kit.imports.reader import Table
from storage.imports import CheckedRow
from telecrm.action_types import async_action_type
from telecrm.schema import PAYMENT_CURRENCIES, PAYMENT_STATUSES, WorkspaceSchema

EXAMPLES_PER_PROBLEM = 3
REPEATED = "Repeated identifier"
_QUOTED = re.compile(r"“[^”]*”\s*")


@dataclass
class ProblemGroup:
    """Rows that share one kind of problem: how many, and the first few as (row, message)."""

    count: int = 0
    examples: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class Tally:
    """What checking a file found, filled in while its rows stream through :func:`check_rows`."""

    total_rows: int = 0
    valid_rows: int = 0
    problem_rows: int = 0
    repeated_rows: int = 0
    groups: dict[str, ProblemGroup] = field(default_factory=dict)

    def add(self, row_no: int, kind: str, message: str) -> None:
        group = self.groups.setdefault(kind, ProblemGroup())
        group.count += 1
        if len(group.examples) < EXAMPLES_PER_PROBLEM:
            group.examples.append((row_no, message))

    @property
    def problems(self) -> dict[str, int]:
        """Problem kind → rows with it, most frequent first (the import's ``problems``)."""
        ordered = sorted(self.groups.items(), key=lambda kv: -kv[1].count)
        return {kind: group.count for kind, group in ordered}


@dataclass(frozen=True)
class RowRules:
    """What a row is checked against besides the schema."""

    default_country_code: str = "91"
    default_currency: str = "INR"
    tz: str = DEFAULT_TZ  # TeleCRM reads zone-less date strings in the workspace's (India's) time


def problem_kind(message: str, label: str = "") -> str:
    """The kind of a problem, for grouping: its message without the quoted value and the advice
    (``Phone: “12” is not a phone number (is too short) — use …`` → ``Phone: is not a phone number``)."""
    prefix = f"{label}: " if label and message.startswith(f"{label}: ") else ""
    rest = _QUOTED.sub("", message[len(prefix) :]).strip()
    rest = rest[2:] if rest.startswith("— ") else rest  # "“-5” — the amount must be more than 0"
    core = re.sub(r"\s*\([^)]*\)", "", rest.split(" — ", 1)[0])
    core = " ".join(core.split()).rstrip(";,. ")
    if not prefix and label and not core.startswith(label):
        prefix = f"{label}: "
    return prefix + core


def check_rows(
    table: Table,
    mapping: Mapping_,
    schema: WorkspaceSchema,
    rules: RowRules,
    tally: Tally,
    problem_csv: TextIO | None = None,
    *,
    workers: int = 1,
) -> Iterator[CheckedRow]:
    """The valid rows of ``table`` under ``mapping``, in file order; ``tally`` (and ``problem_csv``,
    when given) learn of the others. Raises :class:`~kit.imports.reader.NotATable` past the row limit.

    With ``workers`` > 1 the rows are checked by that many processes (the checks are pure CPU work,
    and a thread would hold the interpreter's lock): the file is still read, and the results taken,
    in order here, a few chunks ahead at most, so memory stays bounded."""
    columns = [(i, mapping.get(h)) for i, h in enumerate(table.header) if mapping.get(h)]
    writer = csv.writer(problem_csv) if problem_csv is not None else None
    if writer is not None:
        writer.writerow(["row", *table.header, "reason"])
    identifier = schema.identifier.api_name
    seen: dict[str, int] = {}
    checked = (
        _pooled(table.rows(), columns, schema, rules, workers)
        if workers > 1
        else _in_turn(table.rows(), columns, schema, rules)
    )
    for row_no, cells, body, problems in checked:
        tally.total_rows += 1
        key = _identity(body["fields"].get(identifier)) if not problems else None
        if key is not None and key in seen:
            label = schema.identifier.label or identifier
            problems = [
                Problem(identifier, REPEATED, f"{label} repeats row {seen[key]}; only that row is imported")
            ]
        if problems:
            tally.problem_rows += 1
            for p in problems:
                tally.add(
                    row_no, REPEATED if p.label == REPEATED else problem_kind(p.message, p.label), p.message
                )
            if any(p.label == REPEATED for p in problems):
                tally.repeated_rows += 1
            if writer is not None:
                writer.writerow([row_no, *cells, "; ".join(p.message for p in problems)])
            continue
        if key is not None:
            seen[key] = row_no
        tally.valid_rows += 1
        yield CheckedRow(row_no, str(body["fields"].get(identifier, "")), body)


_Checked = tuple[int, list[str], dict[str, Any], list[Problem]]
_CHUNK_ROWS = 2000
_worker_setup: tuple[list[tuple[int, str | None]], WorkspaceSchema, RowRules, ConvertMemo] | None = None


def _in_turn(
    rows: Iterator[tuple[int, list[str]]],
    columns: list[tuple[int, str | None]],
    schema: WorkspaceSchema,
    rules: RowRules,
) -> Iterator[_Checked]:
    memo = ConvertMemo()
    for row_no, cells in rows:
        yield (row_no, cells, *_check_row(cells, columns, schema, rules, memo))


def _pooled(
    rows: Iterator[tuple[int, list[str]]],
    columns: list[tuple[int, str | None]],
    schema: WorkspaceSchema,
    rules: RowRules,
    workers: int,
) -> Iterator[_Checked]:
    # "spawn": a fork of the bot would copy its threads' locks mid-use
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(columns, schema, rules)
    ) as pool:
        pending: deque[
            tuple[list[tuple[int, list[str]]], Future[list[tuple[dict[str, Any], list[Problem]]]]]
        ] = deque()
        for chunk in _chunks(rows, _CHUNK_ROWS):
            pending.append((chunk, pool.submit(_check_chunk, [cells for _, cells in chunk])))
            while len(pending) > workers * 2:
                yield from _results(*pending.popleft())
        while pending:
            yield from _results(*pending.popleft())


def _results(
    chunk: list[tuple[int, list[str]]], future: Future[list[tuple[dict[str, Any], list[Problem]]]]
) -> Iterator[_Checked]:
    for (row_no, cells), (body, problems) in zip(chunk, future.result(), strict=True):
        yield row_no, cells, body, problems


def _chunks(rows: Iterator[tuple[int, list[str]]], size: int) -> Iterator[list[tuple[int, list[str]]]]:
    chunk: list[tuple[int, list[str]]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _start_worker(columns: list[tuple[int, str | None]], schema: WorkspaceSchema, rules: RowRules) -> None:
    global _worker_setup
    _worker_setup = (columns, schema, rules, ConvertMemo())


def _check_chunk(rows: list[list[str]]) -> list[tuple[dict[str, Any], list[Problem]]]:
    assert _worker_setup is not None  # set by _start_worker in this process
    columns, schema, rules, memo = _worker_setup
    return [_check_row(cells, columns, schema, rules, memo) for cells in rows]


def _identity(value: object) -> str | None:
    """How TeleCRM matches identifiers: exactly, ignoring case (phones are already normalised)."""
    if value is None:
        return None
    return " ".join(str(value).split()).casefold() or None


def _check_row(
    cells: list[str],
    columns: list[tuple[int, str | None]],
    schema: WorkspaceSchema,
    rules: RowRules,
    memo: ConvertMemo,
) -> tuple[dict[str, Any], list[Problem]]:
    lead: dict[str, object] = {}
    payment: dict[str, str] = {}
    actions: dict[str, dict[str, object]] = {}
    for i, target in columns:
        value = cells[i].strip()
        if not value or target is None:
            continue
        if target.startswith(PAYMENT_PREFIX):
            payment[target[len(PAYMENT_PREFIX) :]] = value
        elif (parts := split_action_target(target)) is not None:
            actions.setdefault(parts[0], {})[parts[1]] = value
        else:
            lead[target] = value
    values, problems = validate_fields(
        schema,
        lead,
        require_identifier=True,
        default_country_code=rules.default_country_code,
        tz=rules.tz,
        memo=memo,
    )
    body: dict[str, Any] = {"fields": values}
    out_actions: list[dict[str, Any]] = []
    for code, raw in actions.items():
        action = schema.custom_action(code)
        if action is None:
            problems.append(Problem(code, code, f"“{code}” is not a custom action of this workspace"))
            continue
        fields, action_problems = validate_fields(
            schema,
            raw,
            require_identifier=False,
            default_country_code=rules.default_country_code,
            tz=rules.tz,
            fields=action.fields,
            memo=memo,
        )
        problems += [
            Problem(p.api_name, f"{action.display_name}: {p.label}", p.message) for p in action_problems
        ]
        if fields:
            out_actions.append({"type": async_action_type(action.code), "fields": fields})
    if payment:
        checked, payment_problems = check_payment(payment, rules.default_currency)
        problems += payment_problems
        if checked is not None:
            out_actions.append(checked)
    if out_actions:
        body["actions"] = out_actions
    return body, problems


def check_payment(
    raw: Mapping[str, str], default_currency: str
) -> tuple[dict[str, str] | None, list[Problem]]:
    """A row's payment columns → the PAYMENT action: amount as ``/payment`` reads it, currency and
    status from the documented lists (docs/API.md §7.3), currency defaulting to DEFAULT_CURRENCY and
    status to PENDING, as ``/payment`` does."""
    problems: list[Problem] = []
    amount = ""
    if not raw.get("amount"):
        problems.append(
            Problem(
                "payment.amount",
                "Payment amount",
                "Payment amount is required when a payment currency or status is given",
            )
        )
    else:
        try:
            amount = normalize_amount(raw["amount"])
        except FieldError as exc:
            problems.append(Problem("payment.amount", "Payment amount", f"Payment amount: {exc.detail}"))
    currency = (raw.get("currency") or default_currency).strip().upper()
    if currency not in PAYMENT_CURRENCIES:
        problems.append(
            Problem(
                "payment.currency",
                "Payment currency",
                f"Payment currency: “{currency[:20]}” is not a supported currency — use one of {', '.join(PAYMENT_CURRENCIES)}",
            )
        )
    status = (raw.get("status") or "PENDING").strip().upper()
    if status not in PAYMENT_STATUSES:
        problems.append(
            Problem(
                "payment.status",
                "Payment status",
                f"Payment status: “{status[:20]}” is not a payment status — use one of {', '.join(PAYMENT_STATUSES)}",
            )
        )
    if problems:
        return None, problems
    return {"type": "PAYMENT", "status": status, "currency": currency, "amount": amount}, []


def open_problem_csv(path: Path) -> TextIO:
    """The problem rows' CSV, UTF-8 with a BOM so that Excel shows accents right."""
    return path.open("w", encoding="utf-8-sig", newline="")
