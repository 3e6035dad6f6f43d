"""Plausible signals for simulated stations: a daily cycle plus noise, per pollutant."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Factor:
    code: str
    base: float
    daily_amplitude: float  # fraction of base
    noise: float  # fraction of base
    decimals: int = 2


WATER = (
    Factor("w01018", 32.0, 0.25, 0.05),  # COD mg/L
    Factor("w21003", 2.1, 0.30, 0.06, 3),  # NH3-N mg/L
    Factor("w21011", 0.35, 0.20, 0.05, 3),  # TP mg/L
    Factor("w21001", 11.0, 0.20, 0.05),  # TN mg/L
    Factor("w01001", 7.2, 0.02, 0.01),  # pH
    Factor("w00000", 12.5, 0.40, 0.08),  # flow L/s
)
GAS = (
    Factor("a21026", 28.0, 0.30, 0.08),  # SO2 mg/m3
    Factor("a21002", 65.0, 0.25, 0.06),  # NOx mg/m3
    Factor("a34013", 4.5, 0.30, 0.10),  # particulates mg/m3
    Factor("a19001", 9.8, 0.05, 0.02),  # O2 %
    Factor("a01012", 55.0, 0.10, 0.02, 1),  # flue-gas temperature C
    Factor("a00000", 41.0, 0.20, 0.04, 1),  # flue-gas flow m3/s
)


def sample(factors: tuple[Factor, ...], at: datetime, rng: random.Random) -> dict[str, float]:
    """One reading per factor at ``at``: base x (1 + daily cycle) + noise, never negative."""
    hours = at.hour + at.minute / 60
    cycle = math.sin((hours - 8) / 24 * 2 * math.pi)  # peak in the afternoon shift
    out = {}
    for f in factors:
        value = f.base * (1 + f.daily_amplitude * cycle + rng.gauss(0, f.noise))
        out[f.code] = round(max(value, 0.0), f.decimals)
    return out
