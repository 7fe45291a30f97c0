"""The read side of day plans: which plan counts, and one view of it for every output.

- :mod:`.record`: the plan of record of a day (the published version, else the newest
  draft), a newer draft waiting to be published, the published plans of a range (feeds).

Pages, feeds, the API and the e-mail ask here and hold no query of their own.

May import: the models, :mod:`scheduler.calendar` (words for time off), settings.
"""
