"""Step 7 of the pipeline, sending: the morning itinerary e-mail, exactly once per therapist
and day, however many workers run.

- :mod:`.send_times`: when each therapist's e-mail goes out (pure functions);
- :mod:`.itineraries`: what the morning job does (plan if needed, render, send, catch up);
- :mod:`.outbox`: the claim-before-send table that makes each e-mail go out once;
- :mod:`.owners`: who holds a claim (host, pid, token; a heartbeat) and whether it is gone;
- :mod:`.senders`: SMTP, or ``.eml`` files in the instance outbox (the embedded default);
- :mod:`.worker`: APScheduler wiring (``rounds worker``, or inside ``rounds serve``);
- :mod:`.job_store`: the worker's persistent jobs on the practice database.

May import: :mod:`scheduler.planning` (to plan a day not yet planned), :mod:`scheduler.plans`
and :mod:`scheduler.present` (what to send), the models, settings and runtime.
"""
