"""Steps 4 to 6 of the day-planning pipeline: a day's visits become saved, explained day plans.

Read top-down:

- :mod:`.gather` reads a day of the calendar (and the current plans: pins, done visits, who
  holds which open visit) into the optimizer's terms: tasks, workers and where each starts;
- :mod:`.problem` turns those into the optimizer's VROOM-style JSON (step 4);
- :mod:`.strategy` is how a whole day is solved, and the one owner of its time budget:
  who takes the shared visits, then each therapist's route on its own (step 5);
- :mod:`.answer` reads the optimizer's answer back in our terms (step 6);
- :mod:`.reasons` words why each visit left out is out;
- :mod:`.solving` joins them: the problem with its travel times, solved (in worker
  processes for a range of days), the answer read back with reasons;
- :mod:`.store` saves a new version of each therapist's day (none when nothing changed), and
  publishes;
- :mod:`.marks` saves a visit marked done or skipped, also one sent long after it was made (a
  phone without signal), following the visit to the day's plan of record or saying why not;
- :mod:`.days` is the public face: :func:`plan_days`, :func:`plan_range`,
  :func:`replan_from`, :func:`pin_visit`;
- :mod:`.refresh` plans the stale days again (the worker's job every half minute, and
  `rounds plan --stale`).

Which plan counts once saved, and what pages, feeds and e-mails show of it, is the read side
in :mod:`scheduler.plans`.

May import: :mod:`scheduler.calendar`, :mod:`scheduler.travel`, :mod:`scheduler.optimizer`,
:mod:`scheduler.plans` (to read the current plans), the models and settings. Nothing of the
web, and :mod:`.problem`, :mod:`.strategy` and :mod:`.answer` nothing but the optimizer.
"""

from scheduler.planning.days import pin_visit, plan_days, plan_range, replan_from
from scheduler.planning.gather import visit_key
from scheduler.planning.store import publish_plan, set_stop_state

__all__ = ["pin_visit", "plan_days", "plan_range", "publish_plan", "replan_from",
           "set_stop_state", "visit_key"]
