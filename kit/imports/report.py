"""The preview of an import in words: the channel message, its thread's details, and the terminal's.

Everything from the file (column names, values quoted in problems, the file name) is escaped with
:func:`kit.format.mrkdwn_escape` before it enters mrkdwn, so a column called ``<!channel>`` pings
nobody. Slack's limits are kept: 50 blocks a message, 3,000 characters a section, 75 characters a
button's text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kit import ids
from kit.blocks import button
from kit.format import mention, mrkdwn_escape, truncate
from kit.imports.checks import REPEATED, Tally
from kit.imports.mapping import Mapping_, target_label
from telecrm.schema import WorkspaceSchema

MAX_KINDS_SHOWN = 12
_SECTION_CHARS = 2900

Blocks = list[dict[str, Any]]


@dataclass(frozen=True)
class PreviewFacts:
    """What a preview says, whichever way it is shown."""

    import_id: str
    file_name: str
    mapping: Mapping_
    tally: Tally
    mapping_problems: list[str]
    user: str | None = None
    earlier_note: str = ""  # "This file was already imported on …", when it was


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, 3000)}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(text, 3000)}]}


def _code(text: str) -> str:
    """A column name shown as code; a backtick inside would end the code span early."""
    return "`" + mrkdwn_escape(truncate(text.replace("`", "'"), 60)) + "`"


def rows_word(n: int) -> str:
    return f"{n:,} row" + ("" if n == 1 else "s")


def _verb(n: int) -> str:
    return "repeats" if n == 1 else "repeat"


def summary_line(tally: Tally) -> str:
    parts = [f"*{rows_word(tally.total_rows)}*", f"*{tally.valid_rows:,} ready to import*"]
    if tally.problem_rows:
        parts.append(f"{tally.problem_rows:,} with problems (not imported)")
    return ", ".join(parts)


def preview_message(facts: PreviewFacts) -> tuple[str, Blocks]:
    """The channel message: what the file holds, and the buttons."""
    tally = facts.tally
    who = f" from {mention(facts.user)}" if facts.user else ""
    text = f"Import preview of {mrkdwn_escape(facts.file_name)}: {tally.valid_rows:,} of {tally.total_rows:,} rows ready to import"
    blocks: Blocks = [
        _section(
            f":page_facing_up: *Import preview — {mrkdwn_escape(facts.file_name)}*{who}\n{summary_line(tally)}."
        )
    ]
    for problem in facts.mapping_problems:
        blocks.append(_section(f":warning: {problem}"))
    if facts.earlier_note:
        blocks.append(_section(f":repeat: {facts.earlier_note}"))
    buttons = []
    if tally.valid_rows:
        label = f"Import {tally.valid_rows:,} valid row" + ("" if tally.valid_rows == 1 else "s")
        buttons.append(button(label, ids.ACT_IMPORT_CONFIRM, facts.import_id, style="primary"))
    buttons.append(button("Change mapping", ids.ACT_IMPORT_CHANGE_MAPPING, facts.import_id))
    buttons.append(button("Cancel", ids.ACT_IMPORT_PREVIEW_CANCEL, facts.import_id, style="danger"))
    blocks.append({"type": "actions", "block_id": "import_preview_buttons", "elements": buttons})
    blocks.append(
        _context(
            "Nothing is sent to TeleCRM until you press *Import*. Each valid row creates the lead, or updates "
            "the lead that already has its identifier (TeleCRM's Async API). The column mapping and the "
            "problems are in the thread."
        )
    )
    return text, blocks


def details_message(facts: PreviewFacts, schema: WorkspaceSchema) -> tuple[str, Blocks]:
    """The thread's details: the mapping, repeats and the problems grouped with their first examples."""
    blocks: Blocks = []
    for chunk in _chunks(mapping_lines(facts.mapping, schema), "*Columns*"):
        blocks.append(_section(chunk))
    tally = facts.tally
    if tally.repeated_rows:
        blocks.append(
            _section(
                f":repeat: {rows_word(tally.repeated_rows)} {_verb(tally.repeated_rows)} the identifier of an earlier row; only the "
                "first row with it is imported (TeleCRM would apply both to one lead)."
            )
        )
    if not tally.problem_rows:
        blocks.append(_section(f":white_check_mark: All {rows_word(tally.total_rows)} passed the checks."))
    else:
        for chunk in _chunks(
            problem_lines(tally), f"*Problems* — {rows_word(tally.problem_rows)} will not be imported"
        ):
            blocks.append(_section(chunk))
        blocks.append(
            _context("Every problem row, with a `reason` column, is in the CSV file below this message.")
        )
    text = f"Columns and problems of {mrkdwn_escape(facts.file_name)}"
    return text, blocks[:50]


def mapping_lines(mapping: Mapping_, schema: WorkspaceSchema) -> list[str]:
    lines = []
    for header, target in mapping.items():
        where = f"*{mrkdwn_escape(target_label(schema, target))}*" if target else "_left out_"
        lines.append(f"• {_code(header)} → {where}")
    return lines


def problem_lines(tally: Tally) -> list[str]:
    lines = []
    kinds = sorted(tally.groups.items(), key=lambda kv: -kv[1].count)
    for kind, group in kinds[:MAX_KINDS_SHOWN]:
        name = "Repeated identifier" if kind == REPEATED else kind
        lines.append(f"• *{mrkdwn_escape(name)}* — {rows_word(group.count)}")
        for row_no, message in group.examples:
            lines.append(f"      row {row_no}: {mrkdwn_escape(truncate(message, 200))}")
    if len(kinds) > MAX_KINDS_SHOWN:
        rest = sum(g.count for _, g in kinds[MAX_KINDS_SHOWN:])
        lines.append(
            f"• …and {len(kinds) - MAX_KINDS_SHOWN} more kinds of problem ({rows_word(rest)}), in the CSV"
        )
    return lines


def _chunks(lines: Iterable[str], title: str) -> list[str]:
    """Lines packed into section-sized texts, the title on the first."""
    out, current = [], title
    for line in lines:
        if len(current) + len(line) + 1 > _SECTION_CHARS:
            out.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    out.append(current)
    return out


def status_message(file_name: str, text: str) -> tuple[str, Blocks]:
    """The channel message while the file is read, or when it cannot be imported."""
    return f"{mrkdwn_escape(file_name)}: {mrkdwn_escape(text)}", [
        _section(f":page_facing_up: *{mrkdwn_escape(file_name)}* — {mrkdwn_escape(text)}")
    ]


def cancelled_message(file_name: str, user: str | None) -> tuple[str, Blocks]:
    by = f" by {mention(user)}" if user else ""
    text = f"Import of {mrkdwn_escape(file_name)} cancelled"
    return text, [
        _section(
            f":no_entry_sign: Import of *{mrkdwn_escape(file_name)}* cancelled{by}. Nothing was sent to TeleCRM."
        )
    ]


def again_question(import_id: str, file_name: str, earlier: str) -> tuple[str, Blocks]:
    """ "This file was already imported on <date> (N rows). Import it again?" with its two answers."""
    text = f"{mrkdwn_escape(file_name)}: {earlier} Import it again?"
    return text, [
        _section(f":repeat: *{mrkdwn_escape(file_name)}* — {earlier} Import it again?"),
        {
            "type": "actions",
            "block_id": "import_again_buttons",
            "elements": [
                button("Check it again", ids.ACT_IMPORT_AGAIN, import_id, style="primary"),
                button("Cancel", ids.ACT_IMPORT_PREVIEW_CANCEL, import_id),
            ],
        },
    ]


def terminal_text(facts: PreviewFacts, schema: WorkspaceSchema) -> str:
    """The preview for ``telecrm-bot import FILE --dry-run``: the same facts, as plain text."""
    tally = facts.tally
    lines = [
        f"{facts.file_name}: {rows_word(tally.total_rows)}, {tally.valid_rows:,} ready to import, "
        f"{tally.problem_rows:,} with problems",
        "",
        "Columns:",
    ]
    for header, target in facts.mapping.items():
        lines.append(f"  {header} -> {target_label(schema, target) if target else '(left out)'}")
    for problem in facts.mapping_problems:
        lines.append(f"! {problem.replace('*', '')}")
    if facts.earlier_note:
        lines.append(f"! {facts.earlier_note}")
    if tally.repeated_rows:
        lines.append(
            f"{rows_word(tally.repeated_rows)} repeat the identifier of an earlier row (only the first is imported)"
        )
    if tally.problem_rows:
        lines += ["", "Problems:"]
        for line in problem_lines(tally):
            lines.append(
                line.replace("*", "")
                .replace("•", " -")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&")
            )
    return "\n".join(lines)
