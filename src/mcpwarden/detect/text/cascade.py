"""The cascade: the linear tier decides clear cases, the small model re-reads the uncertain band.

Why a band: the encoder costs milliseconds per window, the linear tier microseconds. Most
texts a gateway relays are clearly benign (or clearly hostile) to the linear tier; only
texts whose linear score falls in `[low, high)` of their channel are sent to the model.
The bounds, like everything else here, are fitted at training on calibration rows the model
never saw (`scripts/minilm/calibrate.py`) and stored in the model's JSON.

Inside the band the verdict combines both tiers: one logistic unit over the linear logit,
the model's best-window logit and log(length / 200 characters). The last term is the same
discipline the linear tier applies: the best of many windows is higher than the best of a
few even when every part is benign, so a long text must not be many chances of a false
alarm; its coefficient is fitted on benign calibration documents *and* joins of them.

The combined probability is then mapped back into the band, monotonically, so that its own
calibrated flag point lands exactly on the channel's flag threshold. A text in the band thus
stays in the band: the model re-ranks the uncertain texts but cannot push a clear linear
verdict across the block threshold, and callers keep using `default_threshold`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

LENGTH_UNIT = 200.0  # characters per chance of a false alarm, as in the linear tier
TOP_WINDOWS = 3  # linear windows (about 2 KB each) the model re-reads, the most suspicious first


class WindowScorer(Protocol):
    """What the cascade needs from the small model (kept abstract: no import cycle)."""

    empty_logit: float

    def text_logit(self, text: str) -> float: ...


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1.0 - 1e-6)
    return math.log(p / (1.0 - p))


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    ez = math.exp(z)
    return ez / (1.0 + ez)


@dataclass(frozen=True, slots=True)
class Band:
    """One channel's uncertain band and the point inside it that means "flag"."""

    low: float  # linear scores below: benign by the linear tier alone
    high: float  # at or above: flagged by the linear tier alone
    flag: float  # the linear tier's flag threshold of the channel
    combined_flag: float  # the combined probability calibrated to the same false-positive rate

    def contains(self, score: float) -> bool:
        return self.low <= score < self.high

    def place(self, combined: float) -> float:
        """Map a combined probability into [low, high), `combined_flag` onto `flag`."""
        if combined < self.combined_flag:
            return self.low + (self.flag - self.low) * combined / max(self.combined_flag, 1e-9)
        span = max(1.0 - self.combined_flag, 1e-9)
        placed = self.flag + (self.high - self.flag) * (combined - self.combined_flag) / span
        return min(placed, math.nextafter(self.high, 0.0))


@dataclass(frozen=True, slots=True)
class Combiner:
    """z = linear · logit(linear score) + model · best window logit + length · log(units) + bias."""

    linear: float
    model: float
    length: float
    bias: float

    def probability(self, linear_score: float, model_logit: float, n_chars: int) -> float:
        units = max(1.0, n_chars / LENGTH_UNIT)
        z = (
            self.linear * logit(linear_score)
            + self.model * model_logit
            + self.length * math.log(units)
            + self.bias
        )
        return _sigmoid(z)


@dataclass(frozen=True, slots=True)
class Cascade:
    """The calibrated cascade of one small model (see the module docstring)."""

    combiner: Combiner
    bands: dict[str, Band]

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> Cascade:
        try:
            c = meta["cascade"]
            combiner = Combiner(*(float(x) for x in c["combiner"]))
            bands = {ch: Band(**{k: float(v) for k, v in b.items()}) for ch, b in c["bands"].items()}
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"the small model's calibration is unusable: {exc!r}") from None
        return cls(combiner, bands)

    @staticmethod
    def model_logit(small: WindowScorer, texts: list[str]) -> float:
        """The best window logit over the texts the linear tier found most suspicious."""
        return max((small.text_logit(t) for t in texts), default=small.empty_logit)

    def rescore(
        self, linear_score: float, texts: list[str], n_chars: int, channel: str, small: WindowScorer
    ) -> float:
        """The final score of a text: the linear score outside the band, the placed combined
        probability inside it."""
        band = self.bands.get(channel)
        if band is None or not band.contains(linear_score):
            return linear_score
        combined = self.combiner.probability(linear_score, self.model_logit(small, texts), n_chars)
        return band.place(combined)
