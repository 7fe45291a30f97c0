"""Rounds: visit scheduling and day routes for medical and oncology massage therapists.

The domain, one subpackage per step of the day-planning pipeline, data flowing one way:

1. :mod:`scheduler.calendar` -- which visits a day holds (series, exceptions, time off) and
2. when each may happen (visiting hours, shift, preferred windows, treatments), and why not;
3. :mod:`scheduler.travel` -- how long the drives take (offline model, or OSRM; geocoding);
4. :mod:`scheduler.planning` -- the day as an optimizer problem (``gather``, ``problem``),
5. solved within its time budget (``strategy``, with :mod:`scheduler.optimizer`),
6. read back and saved as versions of each therapist's day plan (``answer``, ``store``);
7. :mod:`scheduler.plans` (which plan counts, one view of it), :mod:`scheduler.present`
   (e-mail, .ics, GeoJSON, text) and :mod:`scheduler.delivery` (the morning e-mail).

Beside the pipeline: :mod:`scheduler.records` (every change to the practice's records, and
who may see them), :mod:`scheduler.accounts` (sign-in, tokens), :mod:`scheduler.cli` (the
``rounds`` command); at the root the models, settings, database, audit trail and clock.

It imports nothing from Flask; :mod:`scheduler.optimizer` imports nothing from the rest of it.
"""
