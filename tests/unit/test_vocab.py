"""Tests of the fixed vocabularies, units and the shared column check."""

from __future__ import annotations

import pandas as pd
import pytest

from evfleet.errors import InputDataError
from evfleet.network.geo import haversine_km, haversine_m
from evfleet.schema import require_columns
from evfleet.vocab import ChargerKind, ChargingKind, ChargingTrigger, TripPurpose


def test_charging_kinds_map_to_charger_kinds() -> None:
    assert [k.charger for k in ChargingKind] == [
        ChargerKind.AC,
        ChargerKind.AC,
        ChargerKind.DC,
        ChargerKind.DC,
    ]
    with pytest.raises(ValueError, match="'ultra'"):
        ChargingKind("ultra")


def test_vocabularies_keep_their_table_strings() -> None:
    assert [k.value for k in ChargingKind] == ["home", "l2", "dcfc", "roadside"]
    assert ChargingTrigger.STRANDED == "stranded"
    assert TripPurpose.CHARGING == "charging"
    assert pd.Series([ChargingKind.DCFC]).astype("string").iloc[0] == "dcfc"


def test_charger_kind_parse_names_the_valid_kinds() -> None:
    assert ChargerKind.parse("dc") is ChargerKind.DC
    with pytest.raises(InputDataError, match="unknown charger kind 'fast'; valid: ac, dc"):
        ChargerKind.parse("fast")


def test_require_columns_names_every_missing_column() -> None:
    frame = pd.DataFrame({"a": [1]})
    require_columns(frame, ("a",), "table t")
    with pytest.raises(InputDataError, match="^table t is missing columns: b, c$"):
        require_columns(frame, ("a", "b", "c"), "table t")


def test_haversine_km_and_m_agree() -> None:
    km = haversine_km(37.0, -122.0, 38.0, -122.0)
    assert km == pytest.approx(111.195, rel=1e-4)
    assert haversine_m(37.0, -122.0, 38.0, -122.0) == pytest.approx(km * 1000.0)
