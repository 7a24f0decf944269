"""Benchmarks: how fast and how light the bot is, measured against the floor of a bare Bolt app.

``python -m bench`` (or ``make bench``) runs every measurement and prints the results table that
``docs/PERFORMANCE.md`` publishes; ``python -m bench --quick`` is a shorter run of the same.
"""
