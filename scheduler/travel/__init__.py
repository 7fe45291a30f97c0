"""Step 3 of the day-planning pipeline: how long the drives between the day's places take.

- :mod:`.times`: the :class:`~.times.TravelTimes` seam the planner depends on (points in,
  whole-second and whole-metre matrices out), the offline geodesic model with rush hours
  (the default), and a cache;
- :mod:`.osrm`: an OSRM-compatible table service, for a practice that runs one;
- :mod:`.from_settings`: the stack the settings ask for;
- :mod:`.geocoding`: addresses to coordinates (geopy's Nominatim), each looked up once and
  kept in the database.

May import: :mod:`scheduler.optimizer` (its geodesic calibration, so plans and solver agree),
:mod:`scheduler.settings`, and the models in :mod:`.geocoding` (its cache table).
"""
