"""Steps 1 and 2 of the day-planning pipeline: which visits a day holds, and when each may
happen.

Read top-down:

- :mod:`.rules` reads an RFC 5545 rule, naming any problem in words;
  :mod:`.expand` turns a rule into dates (fast, by day arithmetic where it can);
  :mod:`.words` says a rule for people ("Mon/Wed/Fri");
  :mod:`.local_time` turns wall-clock times of the practice's zone into instants;
- :mod:`.series` gives a visit series' occurrences after its exceptions, and
  :mod:`.treatments` a treatment's occurrences on a day after its last date and its
  exceptions (an occurrence cancelled, or moved to another date, start or length);
- :mod:`.time_off` says who is off on which day, and why;
- :mod:`.bounds`, :mod:`.visit_rules` and :mod:`.availability`: the rules on one visit's
  time (shift, visiting hours, preferred windows, treatments) and the windows they leave,
  every edge labelled so that "why not then?" is answered from data;
- :mod:`.day` puts it together: the visits of a day for each therapist (and the open ones),
  each with its availability, read from the database once per range of days.

May import: :mod:`scheduler.models` (and the database session in :mod:`.day` and
:mod:`.time_off` only). Everything else here is a pure function of plain values.
"""
