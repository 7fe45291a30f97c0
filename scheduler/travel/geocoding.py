"""Addresses to coordinates: geopy's Nominatim client, asked once per address, answers kept.

- :class:`Geocoder` is the seam; :class:`NominatimGeocoder` (from :func:`make_geocoder`) is
  the real one: the public OpenStreetMap Nominatim by default, or a practice's own server
  (``[geocoding]`` settings), at most one request per ``min_delay_seconds`` through geopy's
  ``RateLimiter`` as Nominatim's usage policy asks, with the User-Agent from settings.
- :func:`geocode_address` keeps every answer in the database (:class:`GeocodeResult`),
  "no match" included, so an address is never asked twice.
- :func:`geocode_facility` gives a facility its coordinates, except that coordinates a
  person typed (``CoordinateSource.MANUAL``) always win and are never looked up.

Failures raise :class:`GeocodingError`, whose message is a sentence for the person at the
form: no address, no match, or the service could not be asked (and why).

Privacy: a private home's address is a patient's address. Nothing here logs addresses or
facility names (facility ids only), and error messages do not repeat the address.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

# geopy ships no type information (its names are typed Any here).
from geopy.adapters import AdapterHTTPError, URLLibAdapter  # type: ignore[import-untyped]
from geopy.exc import (  # type: ignore[import-untyped]
    GeocoderInsufficientPrivileges,
    GeocoderParseError,
    GeocoderRateLimited,
    GeocoderTimedOut,
    GeopyError,
)
from geopy.extra.rate_limiter import RateLimiter  # type: ignore[import-untyped]
from geopy.geocoders import Nominatim  # type: ignore[import-untyped]
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scheduler import clock
from scheduler.models import CoordinateSource, Facility, GeocodeResult

if TYPE_CHECKING:
    from scheduler.settings import Settings

log = logging.getLogger(__name__)

QUERY_MAX_LENGTH = 255  # GeocodeResult.query


class GeocodingProblem(enum.StrEnum):
    NO_ADDRESS = "no_address"
    NO_MATCH = "no_match"
    UNREACHABLE = "unreachable"  # no answer, an error answer, or a refusal: try again later


class GeocodingError(Exception):
    """No coordinates could be found; ``str(error)`` says why in words for a person."""

    def __init__(self, problem: GeocodingProblem, message: str):
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True)
class GeocodedPlace:
    """What a geocoder found for an address."""

    latitude: float
    longitude: float
    display_name: str = ""


class Geocoder(Protocol):
    def lookup(self, address: str) -> GeocodedPlace | None:
        """The best match for ``address``, or None when the service knows no such place.

        Raises GeocodingError (UNREACHABLE) when the service cannot be asked or fails.
        """
        ...


@dataclass(frozen=True)
class GeocodeOutcome:
    """Where a facility or address is, and where that came from."""

    latitude: float
    longitude: float
    source: CoordinateSource  # MANUAL: typed by a person; GEOCODED: found by the service
    display_name: str = ""
    from_cache: bool = False  # answered from the database without asking the service


# ---------------------------------------------------------------------------------------------
# The real geocoder


class NominatimGeocoder:
    """geopy's Nominatim client behind geopy's RateLimiter.

    It uses the standard library's HTTP client (geopy's ``URLLibAdapter``) whether or not
    ``requests`` is installed, so that it behaves the same everywhere. Failed requests are
    not retried here: a person sees the message and can try again.
    """

    def __init__(
        self,
        *,
        user_agent: str,
        domain: str = "nominatim.openstreetmap.org",
        scheme: str = "https",
        timeout_seconds: float = 10.0,
        min_delay_seconds: float = 1.0,
    ):
        self.service = domain
        self.timeout_seconds = timeout_seconds
        self._nominatim = Nominatim(
            user_agent=user_agent,
            domain=domain,
            scheme=scheme,
            timeout=timeout_seconds,
            adapter_factory=URLLibAdapter,
        )
        # One RateLimiter per geocoder: share the geocoder to share the one-a-second budget.
        self._geocode = RateLimiter(
            self._nominatim.geocode,
            min_delay_seconds=min_delay_seconds,
            max_retries=0,  # its retry logs the arguments, i.e. the address
            error_wait_seconds=min_delay_seconds,
            swallow_exceptions=False,  # "no match" and "unreachable" must stay apart
        )

    def lookup(self, address: str) -> GeocodedPlace | None:
        try:
            location = self._geocode(address, exactly_one=True)
        except GeopyError as error:
            raise GeocodingError(GeocodingProblem.UNREACHABLE, self.explain(error)) from error
        if location is None:
            return None
        return GeocodedPlace(
            latitude=float(location.latitude),
            longitude=float(location.longitude),
            display_name=location.address or "",
        )

    def explain(self, error: GeopyError) -> str:
        """A sentence for a person about why the service could not answer."""
        service = f"The geocoding service ({self.service})"
        later = "Try again later, or enter the coordinates by hand."
        status = _http_status(error)
        if isinstance(error, GeocoderRateLimited):
            return f"{service} is refusing requests because too many were sent. {later}"
        if isinstance(error, GeocoderInsufficientPrivileges):
            return (
                f"{service} refused the request (HTTP 403). Nominatim refuses requests "
                "without a real User-Agent: set geocoding.user_agent to the practice's name "
                "and a contact address."
            )
        if isinstance(error, GeocoderTimedOut) and status is None:
            return f"{service} did not answer within {self.timeout_seconds:g} seconds. {later}"
        if status is not None:
            return f"{service} answered with an error (HTTP {status}). {later}"
        if isinstance(error, GeocoderParseError):
            return f"{service} answered with something that is not a geocoding result. {later}"
        return (
            f"{service} could not be reached ({error}). Check the network connection and "
            f"the [geocoding] settings. {later}"
        )


def _http_status(error: BaseException) -> int | None:
    """The HTTP status behind a geopy error, if the service answered at all."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, AdapterHTTPError):
            return int(seen.status_code)
        seen = seen.__cause__ or seen.__context__
    return None


def make_geocoder(settings: Settings) -> NominatimGeocoder:
    """The configured geocoder. Build one per process and share it (it holds the rate limit)."""
    geocoding = settings.geocoding
    geopy_log = logging.getLogger("geopy")
    if geopy_log.level == logging.NOTSET:
        # geopy logs each request URL (the address in it) at DEBUG and error bodies at INFO;
        # a private home's address is patient data. Set the "geopy" logger's level to opt in.
        geopy_log.setLevel(logging.WARNING)
    if geocoding.nominatim_domain == "nominatim.openstreetmap.org" and (
        "example.org" in geocoding.user_agent
    ):
        log.warning(
            "geocoding.user_agent still names example.org; the public Nominatim's usage "
            "policy asks for a User-Agent that identifies the practice and a contact"
        )
    return NominatimGeocoder(
        user_agent=geocoding.user_agent,
        domain=geocoding.nominatim_domain,
        scheme=geocoding.nominatim_scheme,
        timeout_seconds=geocoding.timeout_seconds,
        min_delay_seconds=geocoding.min_delay_seconds,
    )


# ---------------------------------------------------------------------------------------------
# Looking up once, keeping the answer


def normalize_address(address: str) -> str:
    """The address as sent to the service: runs of white space made single spaces."""
    return " ".join(address.split())


def cache_key(address: str) -> str:
    """The address as kept in the database: normalized and case-folded, as Nominatim
    ignores case, so "12 MAIN ST" and "12 Main St" are asked once."""
    return normalize_address(address).casefold()


def geocode_address(
    session: Session,
    address: str,
    geocoder: Geocoder,
    *,
    refresh: bool = False,
    now: datetime | None = None,
) -> GeocodeOutcome:
    """Where ``address`` is: the kept answer if there is one, else the service's, kept.

    A "no match" is kept too (and raised as GeocodingError NO_MATCH), so that it is not asked
    again; it is added to ``session`` before the error is raised, so catch the error inside
    the unit of work to keep it. ``refresh`` asks the service again whatever was kept.
    Service failures keep nothing.

    The service is asked while ``session``'s transaction is open; on SQLite (whose
    transactions take the write lock when they begin, see scheduler.db) that holds other
    writers for up to geocoding.timeout_seconds, so geocode in short units of work.
    """
    query = normalize_address(address)
    if not query:
        raise GeocodingError(
            GeocodingProblem.NO_ADDRESS, "There is no address to look up. Enter one first."
        )
    if len(query) > QUERY_MAX_LENGTH:
        raise GeocodingError(
            GeocodingProblem.NO_ADDRESS,
            f"The address is longer than {QUERY_MAX_LENGTH} characters. Shorten it.",
        )
    key = cache_key(query)
    kept = session.scalar(select(GeocodeResult).where(GeocodeResult.query == key))
    if kept is not None and not refresh:
        return _outcome(kept, from_cache=True)

    place = geocoder.lookup(query)  # raises GeocodingError when the service fails
    row = _keep(session, kept, key, place, now or clock.utcnow())
    return _outcome(row, from_cache=False)


def _keep(
    session: Session,
    row: GeocodeResult | None,
    key: str,
    place: GeocodedPlace | None,
    now: datetime,
) -> GeocodeResult:
    """Store the service's answer (None: no match) under ``key``, replacing an older one."""
    if row is None:
        row = GeocodeResult(query=key)
        _fill(row, place, now)
        try:
            with session.begin_nested():  # flushed here, so a clash shows here
                session.add(row)
            return row
        except IntegrityError:
            # Another process kept an answer for this address meanwhile: update that one.
            row = session.scalars(select(GeocodeResult).where(GeocodeResult.query == key)).one()
    _fill(row, place, now)
    session.flush()
    return row


def _fill(row: GeocodeResult, place: GeocodedPlace | None, now: datetime) -> None:
    row.lat = place.latitude if place else None
    row.lon = place.longitude if place else None
    row.display_name = place.display_name[:255] if place else ""
    row.looked_up_at = now


def _outcome(row: GeocodeResult, *, from_cache: bool) -> GeocodeOutcome:
    if row.lat is None or row.lon is None:
        raise GeocodingError(
            GeocodingProblem.NO_MATCH,
            "No place was found for this address. Check the street, city, state and ZIP "
            "code, or enter the coordinates by hand.",
        )
    return GeocodeOutcome(
        latitude=row.lat,
        longitude=row.lon,
        source=CoordinateSource.GEOCODED,
        display_name=row.display_name,
        from_cache=from_cache,
    )


def geocode_facility(
    session: Session,
    facility: Facility,
    geocoder: Geocoder,
    *,
    refresh: bool = False,
    now: datetime | None = None,
) -> GeocodeOutcome:
    """Give ``facility`` the coordinates of its address, unless a person typed them.

    Coordinates with source MANUAL are kept as they are and nothing is asked. Otherwise
    (none yet, geocoded or demo coordinates) the address is looked up through
    :func:`geocode_address` and the facility takes the answer. On GeocodingError the
    facility keeps whatever coordinates it had.
    """
    if (
        facility.coordinate_source == CoordinateSource.MANUAL
        and facility.lat is not None
        and facility.lon is not None
    ):
        return GeocodeOutcome(facility.lat, facility.lon, CoordinateSource.MANUAL)
    try:
        outcome = geocode_address(session, facility.address, geocoder, refresh=refresh, now=now)
    except GeocodingError as error:
        log.warning("Geocoding facility %s failed (%s): %s", facility.id, error.problem, error)
        raise
    facility.lat, facility.lon = outcome.latitude, outcome.longitude
    facility.coordinate_source = CoordinateSource.GEOCODED
    log.info(
        "Facility %s geocoded (%s)",
        facility.id,
        "kept answer" if outcome.from_cache else "asked the service",
    )
    return outcome
