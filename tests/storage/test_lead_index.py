"""The bot's lead index (storage/lead_index.py): what it finds, in which order, and what it keeps."""

from __future__ import annotations

import pytest

from storage.db import Store
from storage.dialect import SQLITE
from storage.lead_index import COUNT_CAP, IndexEntry, LeadIndex, Query, edits1, words_of
from storage.stores import lead_index_for
from tests.storage.conftest import FakeClock, columns_of

JANE = IndexEntry(
    "a" * 24,
    name="Jane Doe",
    identifier="919876543210",
    phones="919876543210 912612345678",
    email="jane.doe@suryodayasolar.in",
    company="Suryoday Solar Pvt. Ltd.",
    status="Fresh",
)


def lead(n: int, name: str, **kw: str) -> IndexEntry:
    return IndexEntry(f"{n:024x}", name=name, **kw)


@pytest.fixture
def index(store: Store, clock: FakeClock) -> LeadIndex:
    return lead_index_for(store, clock=clock)


def names(page_or_entries: object) -> list[str | None]:
    entries = getattr(page_or_entries, "entries", page_or_entries)
    return [e.name for e in entries]  # type: ignore[attr-defined]  # a page or a list of entries


def test_part_of_a_name_finds_the_lead(index: LeadIndex) -> None:
    index.record([JANE, lead(2, "John Smith"), lead(3, "Benjamin Gupta")])
    for typed in ("jan", "JANE", "doe", "ane d", "Jane Doe", "Jan*", "%doe%"):  # wildcards are dropped
        assert names(index.search(typed)) == ["Jane Doe"], typed
    assert index.search("smi").entries[0].name == "John Smith"


def test_the_end_of_a_phone_finds_the_lead(index: LeadIndex) -> None:
    index.record([JANE, lead(2, "Other", phones="919812345670")])
    for typed in ("3210", "43210", "98765 43210", "+91 98765 43210", "5678", "10"):
        assert names(index.search(typed)) == ["Jane Doe"], typed
    assert names(index.search("70")) == ["Other"]  # two digits: a phone's end
    assert names(index.search("9876")) == ["Jane Doe"]  # four digits inside a number


def test_part_of_an_email_or_company_finds_the_lead(index: LeadIndex) -> None:
    index.record(
        [JANE, lead(2, "Rajesh Gupta", email="rajesh@guptatextiles.co.in", company="Gupta Textiles")]
    )
    assert names(index.search("suryoday")) == ["Jane Doe"]
    assert names(index.search("solar pvt")) == ["Jane Doe"]
    assert names(index.search("textiles")) == ["Rajesh Gupta"]
    assert names(index.search("jane.doe@")) == ["Jane Doe"]


@pytest.mark.parametrize("typed", ["jnae", "jane dooe", "jnae doe", "Jane Deo", "suryodya"])
def test_small_typos_still_find_the_lead(index: LeadIndex, typed: str) -> None:
    index.record([JANE, lead(2, "John Smith"), lead(3, "Dane Whitaker")])
    page = index.search(typed)
    assert page.entries and page.entries[0].name == "Jane Doe", typed
    assert page.close == len(page.entries)  # said to be close matches, not exact ones


def test_a_word_some_lead_has_is_not_taken_for_a_typo(index: LeadIndex) -> None:
    index.record([lead(1, "Lane Doe"), lead(2, "Jane Doe")])
    page = index.search("lane")
    assert names(page) == ["Lane Doe"] and page.close == 0


def test_a_word_too_far_from_any_known_word_finds_nothing(index: LeadIndex) -> None:
    index.record([JANE])
    assert index.search("xqzv").entries == []
    assert index.search("jane xqzv").entries == []


def test_ranking_name_itself_then_start_then_word_then_inside_then_email_or_company(
    index: LeadIndex, clock: FakeClock
) -> None:
    # recorded best last, so that recency alone would give the opposite order
    for entry in (
        lead(1, "Someone", email="x@annapurna.in"),  # email/company word start
        lead(2, "Joanna Roy"),  # inside a word of the name
        lead(3, "Priya Anna"),  # start of a later word
        lead(4, "Annapurna Devi"),  # start of the name
        lead(5, "Anna"),  # the name itself
    ):
        clock.advance(1)
        index.record([entry])
    assert names(index.search("anna")) == ["Anna", "Annapurna Devi", "Priya Anna", "Joanna Roy", "Someone"]


def test_a_phone_ending_comes_before_a_phone_containing_the_digits(
    index: LeadIndex, clock: FakeClock
) -> None:
    index.record([lead(1, "Ends", phones="919800003210")])
    clock.advance(1)
    index.record([lead(2, "Inside", phones="913210000000")])
    assert names(index.search("3210")) == ["Ends", "Inside"]


def test_among_equal_matches_the_most_recently_seen_comes_first(index: LeadIndex, clock: FakeClock) -> None:
    for n in range(1, 4):
        clock.advance(10)
        index.record([lead(n, f"Twin {n}")])
    assert names(index.search("twin")) == ["Twin 3", "Twin 2", "Twin 1"]
    clock.advance(10)
    index.record([lead(1, "Twin 1")])  # seen again: it moves up
    assert names(index.search("twin")) == ["Twin 1", "Twin 3", "Twin 2"]
    index.record([lead(2, "Twin 2", seen_at=clock.now - 1000)])  # an older sighting moves nothing
    assert names(index.search("twin")) == ["Twin 1", "Twin 3", "Twin 2"]


def test_pages_and_counts(index: LeadIndex, clock: FakeClock) -> None:
    for n in range(25):
        clock.advance(1)
        index.record([lead(n, f"Twin {n:02d}")])
    first = index.search("twin", limit=10)
    second = index.search("twin", skip=10, limit=10)
    last = index.search("twin", skip=20, limit=10)
    assert (first.total, second.total, last.total) == (25, 25, 25)
    assert names(first)[0] == "Twin 24" and names(last)[-1] == "Twin 00"
    assert len({*names(first), *names(second), *names(last)}) == 25


def test_the_count_stops_at_the_cap(index: LeadIndex) -> None:
    index.record(lead(n, f"Crowd {n}") for n in range(COUNT_CAP + 5))
    page = index.search("crowd")
    assert page.total == COUNT_CAP and page.capped and len(page.entries) == 10


def test_two_letters_match_the_start_of_a_word_and_one_is_too_few(index: LeadIndex) -> None:
    index.record([JANE, lead(2, "Benjamin Gupta"), lead(3, "Raja Iyer")])
    assert names(index.search("ja")) == ["Jane Doe"]  # not inside "Benjamin" or "Raja"
    assert names(index.search("gu")) == ["Benjamin Gupta"]
    assert index.search("j").entries == [] and index.search("  ").entries == []
    assert Query.parse("j") is None and Query.parse("jo") is not None


def test_only_what_search_needs_is_stored(index: LeadIndex, store: Store) -> None:
    assert columns_of(store, "lead_index") == [
        "id",
        "lead_id",
        "name",
        "identifier",
        "phones",
        "email",
        "company",
        "status",
        "seen_at",
        "team_id",  # the Slack workspace whose TeleCRM has the lead
    ]
    if store.dialect is not SQLITE:
        return  # PostgreSQL searches the rows themselves (storage/lead_index_pg.py)
    # the text indexes keep no second copy of the values (contentless FTS5 tables: no _content table)
    tables = {row[0] for row in store.db.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {t for t in tables if t.startswith("lead_index")} == {
        "lead_index",
        "lead_index_words",  # the words typos are corrected against
        "lead_index_state",  # the mirror's cursor
        *(
            f"{fts}{part}"
            for fts in ("lead_index_fts", "lead_index_names")
            for part in ("", "_data", "_idx", "_config")
        ),
    }


def test_a_reading_without_a_field_keeps_the_stored_value(index: LeadIndex) -> None:
    index.record([JANE])
    index.record([IndexEntry(JANE.lead_id, status="Won")])  # e.g. an update answer with only the status
    stored = index.get(JANE.lead_id)
    assert stored is not None and (stored.name, stored.email, stored.status) == (
        "Jane Doe",
        JANE.email,
        "Won",
    )


def test_a_changed_name_is_found_by_the_new_name_only(index: LeadIndex, clock: FakeClock) -> None:
    index.record([lead(1, "Jane Doe", company="Acme")])
    clock.advance(5)
    index.record([lead(1, "Janet Brown")])  # seen later: the row moves
    assert names(index.search("brown")) == ["Janet Brown"] and names(index.search("acme")) == ["Janet Brown"]
    assert index.search("doe").entries == []
    index.record([lead(1, "Janet Green")])  # the same moment: changed in place
    assert names(index.search("green")) == ["Janet Green"] and index.search("brown").entries == []
    assert index.stats().leads == 1


def test_forget_and_stats(index: LeadIndex, clock: FakeClock) -> None:
    assert index.stats().leads == 0 and index.stats().updated_at is None
    index.record([JANE, lead(2, "John Smith")])
    assert index.stats().leads == 2 and index.stats().updated_at == clock.now
    index.forget(JANE.lead_id)
    assert index.stats().leads == 1 and index.search("jane").entries == []


def test_the_known_words_are_those_of_names_emails_and_companies() -> None:
    assert words_of("Jane Doe", "jane.doe@acme.in", None) == ["jane", "doe", "jane", "doe", "acme", "in"]
    assert {"jane", "njae", "jnea", "jne", "jnaee"} <= edits1("jnae") | {"jnae"}
    assert "jnae" not in edits1("jnae")


def test_characters_with_a_meaning_to_fts5_are_just_text(index: LeadIndex) -> None:
    index.record([lead(1, 'O"Brien (Sr.) AND * NEAR')])
    for typed in ('o"brien', "(sr.)", "and *", "NEAR"):
        assert names(index.search(typed)) == ['O"Brien (Sr.) AND * NEAR'], typed


def test_characters_with_a_meaning_to_like_are_just_text(index: LeadIndex) -> None:
    index.record(
        [lead(1, "Kumar_Singh"), lead(2, "KumarXSingh"), lead(3, "Back\\slash"), lead(4, "Backxslash")]
    )
    assert names(index.search("r_s")) == ["Kumar_Singh"]  # "_" is no wildcard
    assert names(index.search("k\\s")) == ["Back\\slash"]  # nor is a backslash an escape
