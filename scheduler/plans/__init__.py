"""The read side of day plans: which plan counts, and one view of it for every output.

- :mod:`.record`: the plan of record of a day (the published version, else the newest
  draft), a newer draft waiting to be published, the published plans of a range (feeds).
- :mod:`.view`: one view of a day plan (``DayPlanView``) that every output renders.
- :mod:`.check`: each stop of a plan checked against the records as they are now ("do not
  visit" and why), before a plan is shown or sent.
- :mod:`.changes`: what a new version changed from the one it replaced.
- :mod:`.touches` and :mod:`.stale`: which planned days a saved change touches, and the
  queue of stale days waiting to be planned again (:mod:`scheduler.planning.refresh`).
- :mod:`.week`: a week's plans summed up, with its warnings.

Pages, feeds, the API and the e-mail ask here and hold no query of their own.

May import: the models, :mod:`scheduler.calendar` (words for time off), settings.
"""
