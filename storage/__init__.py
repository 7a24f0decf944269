"""The bot's database — a SQLite file, or PostgreSQL when ``DATABASE_URL`` says so (stores.py): the
schema cache, lead threads, payments, the outbox of writes, delivery de-duplication, migrations and
the health probe. Never imports Slack code (docs/ARCHITECTURE.md)."""
