"""Follow-up reminders: a DM to the lead's person when its follow-up date comes (README.md,
*Follow-up reminders*).

Where things are:

- ``listeners.py`` — *Done*, *Snooze 1 h* and *Tomorrow 10:00* on a reminder, and ``register``, which
  binds them, the ``follow_up.remind`` job and the check for due reminders (*Log activity* is the
  activity feature's card button)
- ``reminders.py`` — queueing due reminders once (:func:`~commands.follow_up.reminders.remind_due`)
  and the job that sends one
- ``render.py`` — the reminder message and what it becomes after a button (pure)
- when a reminder is due, and who gets it, is :mod:`kit.follow_ups` (the lead jobs call it)
"""

from commands.follow_up.listeners import register

__all__ = ["register"]
