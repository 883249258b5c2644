"""Model card text, feature-set hash, the promotion rule and the recorded noise ceiling."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from evfleet.features import FEATURES
from evfleet.models import PREDICTORS, beats, feature_set_hash, model_card


def _metrics() -> dict[str, float]:
    out = {"predict_rows_per_s": 2.5e6}
    for evaluation, base in (("test", 4.0), ("time_test", 5.0)):
        for k, predictor in enumerate(PREDICTORS):
            out[f"{evaluation}/{predictor}/trip_kwh_mape"] = base + 3 * k
            out[f"{evaluation}/{predictor}/seg_kwh_mae"] = 0.01 * (k + 1)
            out[f"{evaluation}/{predictor}/seg_kwh_per_km_r2"] = 0.9 - 0.2 * k
    return out


def test_the_card_puts_the_physics_prior_next_to_the_model_on_both_held_out_sets() -> None:
    card = model_card(
        family="lightgbm",
        dataset_id="ds1",
        features_id="f1",
        feature_hash="abc",
        split_rule="held-out vehicles: 2 of 10",
        metrics=_metrics(),
        noise_ceiling=None,
        promotion="champion: the first registered version",
    )
    rows = [line for line in card.splitlines() if line.startswith("| held-out")]
    assert len(rows) == 8
    prior = next(r for r in rows if "vehicles | physics prior only" in r)
    assert "| 10.00 |" in prior  # trip MAPE 4 + 3 * 2
    assert "| 30.00 |" in prior  # segment MAE 0.03 kWh in Wh
    assert "2.50 M rows/s" in card
    assert "not measured for this dataset" in card
    assert "`ds1`" in card


def test_promotion_needs_a_strictly_lower_error() -> None:
    assert beats(0.010, 0.011)
    assert not beats(0.011, 0.011)
    assert not beats(0.012, 0.011)
    assert beats(0.012, math.nan)  # an incumbent that cannot predict the new rows
    assert not beats(math.nan, 0.011)


def test_the_feature_set_hash_follows_names_and_dtypes() -> None:
    dtypes = pd.Series(dict.fromkeys(FEATURES, "float64"))
    changed = dtypes.copy()
    changed[FEATURES[0]] = "category"
    assert feature_set_hash(dtypes) == feature_set_hash(dtypes.copy())
    assert feature_set_hash(dtypes) != feature_set_hash(changed)


def test_a_recorded_noise_ceiling_is_quoted(tmp_path: Path) -> None:
    from tasks.registry import noise_ceiling

    assert noise_ceiling(str(tmp_path), "ds1") is None
    (tmp_path / "noise_floor").mkdir()
    floor = {
        "segment kWh": {"r2_ceiling": 0.95},
        "segment kWh/km": {"r2_ceiling": 0.88},
        "trip kWh": {"mape_floor": 2.7},
    }
    (tmp_path / "noise_floor" / "ds1.json").write_text(json.dumps(floor))
    text = noise_ceiling(str(tmp_path), "ds1")
    assert text is not None
    assert "R² (kWh/km) ≤ 0.880" in text
    assert "trip MAPE ≥ 2.70 %" in text
