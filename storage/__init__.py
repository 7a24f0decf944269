"""SQLite: the schema cache, lead threads, payments, the outbox of writes, delivery de-duplication,
migrations and the health probe. Never imports Slack code (docs/ARCHITECTURE.md)."""
