"""Step 7 of the day-planning pipeline: a day plan rendered for people and programs.

Every renderer here takes the one view of a day plan (:class:`scheduler.plans.view.
DayPlanView`), so the outputs say the same thing:

- :mod:`.itinerary`: the morning e-mail (text and HTML from the Jinja templates in
  ``templates/``, the .ics attached), with its subject that never names a patient;
- :mod:`.calendar_file`: the iCalendar events of one or more days (the e-mail and the feed);
- :mod:`.text`: the itinerary ``rounds plan`` prints, and its JSON;
- :mod:`.geojson`: the route the day page's map draws;
- :mod:`.navigation`: the hand-off links to map apps;
- :mod:`.plans_csv`: a week's stops as a spreadsheet.

The web pages render the same view with the web's templates. May import: the models,
settings, :mod:`scheduler.plans` (the view), and :mod:`scheduler.records.exports` (the CSV
writer that guards cells against formulas). No database query, no Flask.
"""
