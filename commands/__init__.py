"""One package per user-facing capability (``lead``, ``payment``, ``timeline``, ``activity``,
``home``); each exposes ``register(app, services)``, called by the composition root (``bot.app``)."""
