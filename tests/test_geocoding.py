"""Geocoding against a local server that answers as Nominatim's /search does.

geopy's real Nominatim client is pointed at the server with its ``domain`` and ``scheme``
options (through the [geocoding] settings), so the requests, the rate limit, the parsing and
the error mapping are the real ones. Each test has its own SQLite file with the schema.
"""

from __future__ import annotations

import json
import logging
import socket
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from http_stub import Reply, serve_http
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.db import make_engine, make_session_factory
from scheduler.models import Base, CoordinateSource, Facility, FacilityKind, GeocodeResult
from scheduler.settings import Settings, load_settings
from scheduler.travel.geocoding import (
    GeocodingError,
    GeocodingProblem,
    NominatimGeocoder,
    cache_key,
    geocode_address,
    geocode_facility,
    make_geocoder,
)

USER_AGENT = "rounds-test/1.0 (ops@clinic.test)"
ST_LUKES = "4401 Wornall Rd, Kansas City, MO 64111"
ST_LUKES_ANSWER = [
    {
        "place_id": 297_461_036,
        "licence": "Data © OpenStreetMap contributors, ODbL 1.0. https://osm.org/copyright",
        "osm_type": "way",
        "osm_id": 25_395_372,
        "lat": "39.0446131",
        "lon": "-94.5911762",
        "class": "amenity",
        "type": "hospital",
        "place_rank": 30,
        "importance": 0.41,
        "addresstype": "amenity",
        "name": "Saint Luke's Hospital",
        "display_name": "Saint Luke's Hospital, 4401, Wornall Road, Kansas City, Jackson "
        "County, Missouri, 64111, United States",
        "boundingbox": ["39.0431", "39.0461", "-94.5932", "-94.5891"],
    }
]
NOWHERE = "1 Nowhere Lane, Atlantis"


# ---------------------------------------------------------------------------------------------
# A stand-in Nominatim


@dataclass
class Request:
    query: dict[str, list[str]]
    user_agent: str
    at: float


@dataclass
class FakeNominatim:
    """Answers /search by the ``q`` parameter; records every request."""

    port: int = 0
    answers: dict[str, Reply] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)

    def reply_for(self, path: str) -> Reply:
        url = urllib.parse.urlsplit(path)
        if url.path != "/search":
            return Reply(404, b'{"error": "not found"}')
        q = urllib.parse.parse_qs(url.query).get("q", [""])[0]
        return self.answers.get(q, Reply(200, b"[]"))

    def queries(self) -> list[str]:
        return [request.query["q"][0] for request in self.requests]


@pytest.fixture
def nominatim() -> Iterator[FakeNominatim]:
    fake = FakeNominatim(answers={ST_LUKES: Reply(200, json.dumps(ST_LUKES_ANSWER).encode())})

    def answer(handler: BaseHTTPRequestHandler) -> Reply:
        fake.requests.append(
            Request(
                query=urllib.parse.parse_qs(urllib.parse.urlsplit(handler.path).query),
                user_agent=handler.headers.get("User-Agent", ""),
                at=time.monotonic(),
            )
        )
        return fake.reply_for(handler.path)

    with serve_http(answer) as port:
        fake.port = port
        yield fake


def geocoding_settings(tmp_path: Path, port: int, **changes: Any) -> Settings:
    geocoding = {
        "user_agent": USER_AGENT,
        "nominatim_domain": f"127.0.0.1:{port}",
        "nominatim_scheme": "http",
        "timeout_seconds": 0.5,
        "min_delay_seconds": 0.0,
        **changes,
    }
    return load_settings(
        environ={}, overrides={"instance": {"path": str(tmp_path)}, "geocoding": geocoding}
    )


@pytest.fixture
def geocoder(tmp_path: Path, nominatim: FakeNominatim) -> NominatimGeocoder:
    return make_geocoder(geocoding_settings(tmp_path, nominatim.port))


# ---------------------------------------------------------------------------------------------
# A database per test


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[Callable[[], Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'geocoding.sqlite3'}")
    Base.metadata.create_all(engine)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def db(sessions: Callable[[], Session]) -> Iterator[Session]:
    with sessions() as session:
        yield session


def add_facility(session: Session, address: str, **fields: Any) -> Facility:
    facility = Facility(
        name="Saint Luke's Hospital", kind=FacilityKind.HOSPITAL, address=address, **fields
    )
    session.add(facility)
    session.flush()
    return facility


def kept(session: Session) -> list[GeocodeResult]:
    return list(session.scalars(select(GeocodeResult).order_by(GeocodeResult.id)))


NOW = datetime(2026, 3, 8, 15, 0, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------
# A match, kept


def test_a_match_gives_the_facility_its_coordinates(
    db: Session, geocoder: NominatimGeocoder, nominatim: FakeNominatim
) -> None:
    facility = add_facility(db, "  4401 Wornall Rd,   Kansas City, MO 64111 ")
    outcome = geocode_facility(db, facility, geocoder, now=NOW)

    assert (outcome.latitude, outcome.longitude) == (39.0446131, -94.5911762)
    assert outcome.source == CoordinateSource.GEOCODED and not outcome.from_cache
    assert outcome.display_name.startswith("Saint Luke's Hospital, 4401, Wornall Road")
    assert (facility.lat, facility.lon) == (39.0446131, -94.5911762)
    assert facility.coordinate_source == CoordinateSource.GEOCODED

    (request,) = nominatim.requests
    assert request.query["q"] == [ST_LUKES]  # white space tidied before asking
    assert request.query["format"] == ["json"]
    assert request.user_agent == USER_AGENT

    (row,) = kept(db)
    assert row.query == cache_key(ST_LUKES) == "4401 wornall rd, kansas city, mo 64111"
    assert (row.lat, row.lon) == (39.0446131, -94.5911762)
    assert row.looked_up_at == NOW


def test_a_kept_answer_is_not_asked_again(
    sessions: Callable[[], Session], geocoder: NominatimGeocoder, nominatim: FakeNominatim
) -> None:
    with sessions() as session:
        geocode_facility(session, add_facility(session, ST_LUKES), geocoder)
        session.commit()
    with sessions() as session:  # another unit of work, another facility, other spelling
        other = add_facility(session, "4401 WORNALL RD, Kansas City, MO 64111")
        outcome = geocode_facility(session, other, geocoder)
    assert outcome.from_cache
    assert (other.lat, other.lon) == (39.0446131, -94.5911762)
    assert len(nominatim.requests) == 1


# ---------------------------------------------------------------------------------------------
# No match, kept too


def test_no_match_is_a_clear_error_and_is_kept(
    db: Session, geocoder: NominatimGeocoder, nominatim: FakeNominatim
) -> None:
    facility = add_facility(db, NOWHERE, lat=39.1, lon=-94.5, coordinate_source=None)
    with pytest.raises(GeocodingError) as raised:
        geocode_facility(db, facility, geocoder)
    assert raised.value.problem == GeocodingProblem.NO_MATCH
    assert str(raised.value) == (
        "No place was found for this address. Check the street, city, state and ZIP code, "
        "or enter the coordinates by hand."
    )
    assert (facility.lat, facility.lon) == (39.1, -94.5)  # unchanged
    (row,) = kept(db)
    assert (row.query, row.lat, row.lon) == (cache_key(NOWHERE), None, None)

    with pytest.raises(GeocodingError, match="No place was found"):
        geocode_facility(db, facility, geocoder)
    assert len(nominatim.requests) == 1  # the kept "no match" answered


def test_refresh_asks_again_and_replaces_the_kept_answer(
    db: Session, geocoder: NominatimGeocoder, nominatim: FakeNominatim
) -> None:
    with pytest.raises(GeocodingError):
        geocode_address(db, NOWHERE, geocoder)
    nominatim.answers[NOWHERE] = Reply(200, json.dumps(ST_LUKES_ANSWER).encode())
    outcome = geocode_address(db, NOWHERE, geocoder, refresh=True)
    assert not outcome.from_cache and outcome.latitude == 39.0446131
    (row,) = kept(db)
    assert row.lat == 39.0446131
    assert len(nominatim.requests) == 2


# ---------------------------------------------------------------------------------------------
# Coordinates typed by a person win


def test_manual_coordinates_are_never_looked_up(
    db: Session, geocoder: NominatimGeocoder, nominatim: FakeNominatim
) -> None:
    facility = add_facility(
        db, ST_LUKES, lat=39.0450, lon=-94.5905, coordinate_source=CoordinateSource.MANUAL
    )
    for refresh in (False, True):
        outcome = geocode_facility(db, facility, geocoder, refresh=refresh)
        assert (outcome.latitude, outcome.longitude) == (39.0450, -94.5905)
        assert outcome.source == CoordinateSource.MANUAL
    assert (facility.lat, facility.lon) == (39.0450, -94.5905)
    assert facility.coordinate_source == CoordinateSource.MANUAL
    assert nominatim.requests == [] and kept(db) == []


@pytest.mark.parametrize("source", [None, CoordinateSource.DEMO, CoordinateSource.GEOCODED])
def test_other_coordinates_give_way_to_the_address(
    db: Session, geocoder: NominatimGeocoder, source: CoordinateSource | None
) -> None:
    facility = add_facility(db, ST_LUKES, lat=39.0, lon=-94.0, coordinate_source=source)
    geocode_facility(db, facility, geocoder)
    assert (facility.lat, facility.lon) == (39.0446131, -94.5911762)
    assert facility.coordinate_source == CoordinateSource.GEOCODED


def test_an_empty_address_is_not_sent(
    db: Session, geocoder: NominatimGeocoder, nominatim: FakeNominatim
) -> None:
    with pytest.raises(GeocodingError) as raised:
        geocode_facility(db, add_facility(db, "   "), geocoder)
    assert raised.value.problem == GeocodingProblem.NO_ADDRESS
    assert "no address" in str(raised.value)
    assert nominatim.requests == []


# ---------------------------------------------------------------------------------------------
# The service cannot be asked


def test_a_timeout_says_the_service_did_not_answer(
    db: Session, geocoder: NominatimGeocoder, nominatim: FakeNominatim
) -> None:
    nominatim.answers[ST_LUKES] = Reply(200, json.dumps(ST_LUKES_ANSWER).encode(), delay=3.0)
    facility = add_facility(db, ST_LUKES)
    started = time.monotonic()
    with pytest.raises(GeocodingError) as raised:
        geocode_facility(db, facility, geocoder)
    assert time.monotonic() - started < 2.0
    assert raised.value.problem == GeocodingProblem.UNREACHABLE
    assert str(raised.value) == (
        f"The geocoding service (127.0.0.1:{nominatim.port}) did not answer within 0.5 "
        "seconds. Try again later, or enter the coordinates by hand."
    )
    assert facility.lat is None and kept(db) == []  # nothing learnt, nothing kept


@pytest.mark.parametrize(
    ("status", "says"),
    [
        (500, "answered with an error (HTTP 500). Try again later"),
        (502, "answered with an error (HTTP 502)"),
        (503, "answered with an error (HTTP 503)"),  # geopy calls it a timeout; it is not
        (
            403,
            "refused the request (HTTP 403). Nominatim refuses requests without a real "
            "User-Agent: set geocoding.user_agent",
        ),
        (429, "is refusing requests because too many were sent"),
    ],
)
def test_an_error_answer_is_explained(
    db: Session, geocoder: NominatimGeocoder, nominatim: FakeNominatim, status: int, says: str
) -> None:
    nominatim.answers[ST_LUKES] = Reply(status, b"<html><body>Error</body></html>")
    with pytest.raises(GeocodingError) as raised:
        geocode_address(db, ST_LUKES, geocoder)
    assert raised.value.problem == GeocodingProblem.UNREACHABLE
    assert str(raised.value).startswith(f"The geocoding service (127.0.0.1:{nominatim.port}) ")
    assert says in str(raised.value)
    assert kept(db) == []


def test_an_answer_that_is_not_json_is_explained(
    db: Session, geocoder: NominatimGeocoder, nominatim: FakeNominatim
) -> None:
    nominatim.answers[ST_LUKES] = Reply(200, b"<html>maintenance</html>")
    with pytest.raises(GeocodingError, match="answered with something that is not a geocoding"):
        geocode_address(db, ST_LUKES, geocoder)
    assert kept(db) == []


def test_a_service_that_is_not_there_is_explained(db: Session, tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    geocoder = make_geocoder(geocoding_settings(tmp_path, port))
    with pytest.raises(GeocodingError) as raised:
        geocode_address(db, ST_LUKES, geocoder)
    assert raised.value.problem == GeocodingProblem.UNREACHABLE
    assert f"The geocoding service (127.0.0.1:{port}) could not be reached (" in str(raised.value)
    assert "refused" in str(raised.value).lower()


def test_a_failed_refresh_keeps_the_earlier_answer(
    db: Session, geocoder: NominatimGeocoder, nominatim: FakeNominatim
) -> None:
    geocode_address(db, ST_LUKES, geocoder, now=NOW)
    nominatim.answers[ST_LUKES] = Reply(500, b"")
    with pytest.raises(GeocodingError):
        geocode_address(db, ST_LUKES, geocoder, refresh=True)
    (row,) = kept(db)
    assert (row.lat, row.looked_up_at) == (39.0446131, NOW)


# ---------------------------------------------------------------------------------------------
# Manners: the rate limit, the User-Agent, no addresses in logs


def test_requests_are_spaced_by_the_minimum_delay(
    db: Session, tmp_path: Path, nominatim: FakeNominatim
) -> None:
    geocoder = make_geocoder(geocoding_settings(tmp_path, nominatim.port, min_delay_seconds=0.4))
    for address in (ST_LUKES, NOWHERE, "2 Nowhere Lane, Atlantis"):
        try:
            geocode_address(db, address, geocoder)
        except GeocodingError:
            pass
    arrivals = [request.at for request in nominatim.requests]
    assert len(arrivals) == 3
    assert all(later - earlier >= 0.38 for earlier, later in pairwise(arrivals))


def test_the_placeholder_user_agent_is_flagged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    defaults = load_settings(environ={}, overrides={"instance": {"path": str(tmp_path)}})
    with caplog.at_level(logging.WARNING, logger="scheduler.travel.geocoding"):
        make_geocoder(defaults)  # builds the client only; nothing is sent
    assert "geocoding.user_agent still names example.org" in caplog.text


def test_logs_carry_facility_ids_not_addresses(
    db: Session,
    geocoder: NominatimGeocoder,
    nominatim: FakeNominatim,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    found = add_facility(db, ST_LUKES)
    missing = add_facility(db, NOWHERE)
    geocode_facility(db, found, geocoder)
    with pytest.raises(GeocodingError):
        geocode_facility(db, missing, geocoder)
    messages = [record.getMessage() for record in caplog.records]
    assert f"Facility {found.id} geocoded (asked the service)" in messages
    assert any(f"Geocoding facility {missing.id} failed (no_match)" in m for m in messages)
    for message in messages:
        assert "Wornall" not in message and "Nowhere" not in message
        assert "Saint Luke" not in message


# ---------------------------------------------------------------------------------------------
# Two processes asking for one new address at once (PostgreSQL: SQLite queues writers at the
# start of their transactions, so there the race cannot happen)


@pytest.fixture
def pg_sessions(postgres_server_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(postgres_server_url)
    factory = make_session_factory(engine)
    yield factory
    with factory.begin() as session:
        session.execute(delete(GeocodeResult))
    engine.dispose()


@pytest.mark.postgres
def test_a_race_for_one_address_keeps_one_answer(
    pg_sessions: sessionmaker[Session], geocoder: NominatimGeocoder, nominatim: FakeNominatim
) -> None:
    class Interleaved:
        """The real geocoder; while it is being asked, another process keeps an answer."""

        def lookup(self, address: str) -> Any:
            with pg_sessions() as other:
                geocode_address(other, address, geocoder)
                other.commit()
            return geocoder.lookup(address)

    with pg_sessions() as session:
        outcome = geocode_address(session, ST_LUKES, Interleaved())
        session.commit()
    assert outcome.latitude == 39.0446131
    with pg_sessions() as session:
        (row,) = kept(session)
    assert row.lat == 39.0446131 and len(nominatim.requests) == 2
