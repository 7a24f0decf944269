"""`/payment`: recording PAYMENT actions, their status buttons and the payment watcher.

Where things are:

- ``listeners.py`` — the Slack listeners, and ``register`` that binds them, the jobs and the watcher
- ``jobs.py`` — the ``payment.*`` outbox jobs: record, change status, show a change made in TeleCRM
- ``watcher.py`` — re-reads open payments from TeleCRM on a schedule
- ``posts.py`` — what the jobs post or edit in Slack; ``lock.py`` — one change or check per payment
- ``access.py`` — who may record or change payments (``PAYMENT_ALLOWED_USERS``)
- pure, unit-tested pieces: ``modal.py`` (the form), ``render.py`` (the payment message and its
  buttons), ``texts.py`` (what is said to people), ``statuses.py`` (the transition table),
  ``leads.py`` (naming a lead), ``actions.py`` (TeleCRM's PAYMENT action)
"""

from commands.payment.listeners import register

__all__ = ["register"]
