"""Pipeline at a glance: the numbers, the chart and the message of ``/pipeline``, the morning digest
and the App Home dashboard (the three features share it here, as features never import each other).

- ``period.py`` — the command's grammar and the days a period means (the team's zone, DIGEST_TZ)
- ``counting.py`` — lead counts from TeleCRM (``total_count``), cached, budgeted, a few at a time
- ``numbers.py`` — every number of a report and where it came from; ``reps.py`` — who "@rep" is
- ``chart.py`` — the PNG (matplotlib, Agg); ``render.py`` — the Block Kit message
- ``report.py`` — numbers → chart → uploaded file → blocks, and posting it
"""
