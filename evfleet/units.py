"""Unit factors: the one definition of every conversion the library uses.

Names read as "<unit> per <unit>" or "<unit> in seconds", so ``x_kph / KPH_PER_MPS`` is in
m/s and ``t_s / HOUR_S`` in hours.
"""

from __future__ import annotations

from typing import Final

MINUTE_S: Final = 60.0
HOUR_S: Final = 3_600.0
DAY_S: Final = 86_400.0

KPH_PER_MPS: Final = 3.6
"""km/h in one m/s."""
KM_PER_MILE: Final = 1.609344
"""km in one international mile (mph x this = km/h)."""
M_PER_KM: Final = 1_000.0

W_PER_KW: Final = 1_000.0
WH_PER_KWH: Final = 1_000.0
J_PER_KWH: Final = 3.6e6
J_PER_WH: Final = 3_600.0
