"""The JSON API under /api/v1: the practice's records and day plans, for programs.

One blueprint per module, each made by :func:`web.api.base.api_blueprint` (bearer-token
authentication, errors as JSON) and registered by the app factory:

- :mod:`.resources`: facilities, therapists, clients, treatments, series, exceptions;
- :mod:`.plans`: day plans and their stops;
- :mod:`.time_off`: time off and practice closures;
- :mod:`.openapi`: the OpenAPI 3 document at /api/v1/openapi.json (no token needed).
"""
