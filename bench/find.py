"""7. ``/lead find`` against the bot's lead index (storage/lead_index.py) holding 100,000 synthetic leads.

The index is filled and queried in a process of its own (``python -m bench.find DB``, started by
:func:`run`), so its resident set size says what the index costs and nothing else: RSS after start-up
(imports, the store opened and migrated), after recording the leads, and after the queries. The leads
are generated (names from common Indian and English first and last names, 12-digit Indian mobile
numbers, one in three with a second phone, emails and companies built from them), recorded in
batches of 500 through the real :meth:`LeadIndex.record`, and the queries — parts of names, phone
endings, email and company parts, misspelt names, two-letter starts, whole names — go through the real
:meth:`LeadIndex.search` and :meth:`LeadIndex.stats`, which is what the ``/lead find`` answer reads.
"""

from __future__ import annotations

import json
import logging
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.harness import read_vmrss_kib
from bench.report import Row, ms, verdict
from bench.stats import percentile

log = logging.getLogger(__name__)

LEADS = 100_000
QUICK_LEADS = 100_000  # the published figure is per 100,000 leads, so --quick keeps the size
TARGET_P99 = 0.020
BATCH = 500

FIRST = [
    "aarav",
    "aditi",
    "aditya",
    "akash",
    "amit",
    "ananya",
    "anil",
    "anjali",
    "arjun",
    "asha",
    "ayesha",
    "deepak",
    "divya",
    "farhan",
    "gaurav",
    "geeta",
    "harish",
    "isha",
    "jane",
    "janet",
    "jaya",
    "john",
    "karan",
    "kavita",
    "kiran",
    "lakshmi",
    "mahesh",
    "manoj",
    "meera",
    "mohan",
    "nandini",
    "neha",
    "nikhil",
    "nisha",
    "pooja",
    "pradeep",
    "priya",
    "rahul",
    "raj",
    "rajesh",
    "ramesh",
    "ravi",
    "rekha",
    "rohan",
    "sachin",
    "sanjay",
    "sarah",
    "shreya",
    "sita",
    "sneha",
    "sunil",
    "suresh",
    "tanvi",
    "usha",
    "varun",
    "vijay",
    "vikram",
    "yash",
    "zoya",
    "david",
    "emma",
    "james",
    "maria",
    "michael",
    "olivia",
    "peter",
    "rachel",
    "robert",
    "sophia",
    "thomas",
    "william",
]
LAST = [
    "agarwal",
    "bansal",
    "bhat",
    "chopra",
    "das",
    "desai",
    "doe",
    "gupta",
    "iyer",
    "jain",
    "joshi",
    "kapoor",
    "khan",
    "kulkarni",
    "kumar",
    "mehta",
    "menon",
    "mishra",
    "nair",
    "naidu",
    "patel",
    "pillai",
    "rao",
    "reddy",
    "saxena",
    "shah",
    "sharma",
    "singh",
    "sinha",
    "thakur",
    "trivedi",
    "verma",
    "yadav",
    "smith",
    "jones",
    "brown",
    "taylor",
    "wilson",
    "fernandes",
    "dsouza",
    "mukherjee",
    "banerjee",
    "chatterjee",
    "ghosh",
    "bose",
    "sen",
    "dutta",
    "roy",
    "malhotra",
    "arora",
    "sethi",
    "bedi",
    "gill",
    "sandhu",
]
ORG_WORDS = [
    "suryoday",
    "sunrise",
    "apex",
    "zenith",
    "lotus",
    "ganga",
    "shakti",
    "vishwa",
    "nova",
    "prime",
    "bright",
    "green",
    "blue",
    "royal",
    "global",
    "metro",
    "urban",
    "star",
    "orbit",
    "delta",
    "sigma",
    "tata",
    "textiles",
    "solar",
    "foods",
    "pharma",
    "motors",
    "steel",
    "logistics",
    "infotech",
    "builders",
    "traders",
    "exports",
    "agro",
    "power",
]
ORG_SUFFIX = ("Pvt. Ltd.", "LLP", "Industries", "Enterprises", "and Sons", "Ltd.")
MAIL_HOSTS = ("gmail.com", "yahoo.co.in", "outlook.com", "rediffmail.com")
STATUSES = ("Fresh", "Contacted", "Qualified", "Negotiation", "Won", "Lost")


def synthetic_leads(n: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """``n`` leads as index entries' fields: id, name, identifier, phone digits, email, company, status."""
    rng = random.Random(seed)
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        phone = "91" + rng.choice("6789") + "".join(rng.choice("0123456789") for _ in range(9))
        phones = [phone]
        if rng.random() < 1 / 3:
            phones.append("91" + "".join(rng.choice("0123456789") for _ in range(10)))
        words = rng.sample(ORG_WORDS, 2)
        company = f"{words[0].title()} {words[1].title()} {rng.choice(ORG_SUFFIX)}"
        if rng.random() < 0.5:
            email = f"{first}.{last}{rng.randrange(100)}@{rng.choice(MAIL_HOSTS)}"
        else:
            email = f"{first}@{words[0]}{words[1]}.in"
        yield {
            "lead_id": f"{i:024x}",
            "name": f"{first.title()} {last.title()}",
            "identifier": phone,
            "phones": " ".join(phones),
            "email": email,
            "company": company,
            "status": rng.choice(STATUSES),
        }


def _typo(word: str, rng: random.Random) -> str:
    """The word with two neighbouring letters swapped (``jane`` → ``jnae``)."""
    i = rng.randrange(1, len(word) - 2) if len(word) > 3 else 1
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def queries(leads: list[dict[str, Any]], count: int, seed: int = 11) -> list[tuple[str, str]]:
    """``count`` (kind, query) pairs, the kinds in turn, drawn from the leads that were indexed."""
    rng = random.Random(seed)
    kinds = ("name part", "phone ending", "email/company part", "misspelt name", "two letters", "whole name")
    out = []
    for k in range(count):
        kind = kinds[k % len(kinds)]
        lead = rng.choice(leads)
        first, last = lead["name"].lower().split()
        if kind == "name part":
            word = rng.choice((first, last))
            start = rng.randrange(0, max(1, len(word) - 3))
            text = word[start : start + rng.randint(3, 5)]
        elif kind == "phone ending":
            text = lead["identifier"][-rng.randint(4, 6) :]
        elif kind == "email/company part":
            source = rng.choice(
                (lead["email"].split("@")[1].split(".")[0], lead["company"].split()[0].lower())
            )
            text = source[: rng.randint(4, len(source))]
        elif kind == "misspelt name":
            text = f"{_typo(first, rng)} {last}" if rng.random() < 0.5 else _typo(first, rng)
        elif kind == "two letters":
            text = first[:2]
        else:
            text = f"{first} {last}"
        out.append((kind, text))
    return out


def _rss_kib() -> int:
    return read_vmrss_kib(Path(f"/proc/{os.getpid()}/status").read_text())


def measure(db_path: str, leads: int, query_count: int) -> dict[str, Any]:
    """Fill an index at ``db_path`` with ``leads`` synthetic leads and time ``query_count`` finds."""
    from storage.db import Store
    from storage.lead_index import IndexEntry, LeadIndex

    store = Store(db_path)
    index = LeadIndex(store)
    rss_start = _rss_kib()
    sample: list[dict[str, Any]] = []  # every 50th lead: what the queries are made from
    started = time.perf_counter()
    now = time.time()
    batch: list[IndexEntry] = []
    for n, lead in enumerate(synthetic_leads(leads)):
        batch.append(IndexEntry(**lead, seen_at=now - leads + n))  # seen one second apart
        if n % 50 == 0:
            sample.append(lead)
        if len(batch) == BATCH:
            index.record(batch)
            batch = []
    index.record(batch)
    fill_seconds = time.perf_counter() - started
    store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    rss_filled = _rss_kib()
    sizes = {
        name: int(size)
        for name, size in store.db.conn.execute(
            "SELECT name, sum(pgsize) FROM dbstat WHERE name LIKE 'lead_index%' "
            "OR name LIKE 'sqlite_autoindex_lead_index%' GROUP BY name"
        )
    }
    file_bytes = os.path.getsize(db_path)
    asked = queries(sample, query_count)
    for _, text in asked[:50]:  # warm the page cache as a running bot's would be
        index.search(text)
    timings: dict[str, list[float]] = {}
    found: dict[str, int] = {}
    cpu_start = time.process_time()
    for kind, text in asked:
        t0 = time.perf_counter()
        page = index.search(text)
        index.stats()
        timings.setdefault(kind, []).append(time.perf_counter() - t0)
        found[kind] = found.get(kind, 0) + (1 if page.entries else 0)
    cpu_per_query = (time.process_time() - cpu_start) / len(asked)
    rss_queried = _rss_kib()
    store.close()
    return {
        "leads": leads,
        "fill_seconds": fill_seconds,
        "index_bytes": sum(sizes.values()),
        "index_bytes_by_table": sizes,
        "file_bytes": file_bytes,
        "rss_kib": {"start": rss_start, "filled": rss_filled, "queried": rss_queried},
        "timings": timings,
        "cpu_per_query": cpu_per_query,
        "found": found,
    }


def run(workdir: Path, *, quick: bool) -> tuple[list[Row], dict[str, Any]]:
    leads = QUICK_LEADS if quick else LEADS
    query_count = 1200 if quick else 3000
    db = workdir / "find.sqlite3"
    child = subprocess.run(
        [sys.executable, "-m", "bench.find", str(db), str(leads), str(query_count)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    raw = json.loads(child.stdout)
    every = [t for ts in raw["timings"].values() for t in ts]
    p50, p99 = percentile(every, 50), percentile(every, 99)
    per_kind = "; ".join(
        f"{kind} p99 {ms(percentile(ts, 99))} ({raw['found'][kind]}/{len(ts)} found)"
        for kind, ts in raw["timings"].items()
    )
    per_100k = 100_000 / raw["leads"]
    index_mb = raw["index_bytes"] / 1e6 * per_100k
    rss = raw["rss_kib"]
    tables = ", ".join(
        f"{name} {size / 1e6 * per_100k:.1f}" for name, size in sorted(raw["index_bytes_by_table"].items())
    )
    rows = [
        Row(
            "/lead find: index query",
            f"{raw['leads']:,} synthetic leads, {len(every):,} queries of 6 kinds, one at a time",
            f"p50 {ms(p50)} / p99 {ms(p99)} (search + the index's size and age for the answer), "
            f"CPU {ms(raw['cpu_per_query'])} a query; {per_kind}",
            f"p99 ≤ {ms(TARGET_P99)}",
            verdict(p99 <= TARGET_P99),
        ),
        Row(
            "/lead find: index size",
            f"{raw['leads']:,} synthetic leads recorded in batches of {BATCH}",
            f"{index_mb:.1f} MB per 100,000 leads (MB by table and index: {tables}); whole database file "
            f"{raw['file_bytes'] / 1e6 * per_100k:.1f} MB; recording took {raw['fill_seconds']:.1f} s "
            f"({raw['leads'] / raw['fill_seconds']:,.0f} leads/s)",
        ),
        Row(
            "/lead find: memory (RSS of the process holding the index)",
            "after start-up, after recording the leads, after the queries",
            f"{rss['start'] / 1024:.1f} MB → {rss['filled'] / 1024:.1f} MB → {rss['queried'] / 1024:.1f} MB "
            f"(growth {(rss['queried'] - rss['start']) / 1024:+.1f} MB; SQLite's page cache is per "
            "connection and bounded)",
        ),
    ]
    return rows, raw


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    db_path, lead_count, query_total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(measure(db_path, lead_count, query_total)))
