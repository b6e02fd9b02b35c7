"""The three margin models behind one interface: ``MODELS[name](book, threshold_bps) -> Health``.

Each implementation returns its own result dataclass (every intermediate, the circuit's signals)
deriving from :class:`~zkmargin.terms.Health` (equity, IM, MM, health). Compare them with
:func:`compare`: what each model demands of the same book.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from zkmargin.book import Book
from zkmargin.cross import cross_margin
from zkmargin.errors import InputError
from zkmargin.isolated import isolated_margin
from zkmargin.portfolio import portfolio_margin
from zkmargin.terms import FULL_HEALTH_BPS, Health

MarginModel = Callable[[Book, int], Health]

MODELS: dict[str, MarginModel] = {
    "portfolio": portfolio_margin,
    "cross": cross_margin,
    "isolated": isolated_margin,
}


def margin_model(name: str) -> MarginModel:
    """Look a model up by name, with an error listing the known ones."""
    try:
        return MODELS[name]
    except KeyError:
        raise InputError(f"unknown margin model {name!r}; known: {', '.join(MODELS)}") from None


@dataclass(frozen=True)
class Comparison:
    """One book under every model, and the capital each saves against isolated margin."""

    results: dict[str, Health]

    def saved_vs_isolated(self, model: str) -> tuple[int, float | None]:
        """(MM saved at EQUITY_SCALE, percent of the isolated MM) by ``model``."""
        base = self.results["isolated"].mm
        saved = base - self.results[model].mm
        return saved, (100.0 * saved / base if base else None)


def compare(book: Book, threshold_bps: int = FULL_HEALTH_BPS) -> Comparison:
    """Margin the same resolved book under every model."""
    return Comparison({name: model(book, threshold_bps) for name, model in MODELS.items()})
