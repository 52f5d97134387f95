"""The feed's words, declared once: quote fields, direction words, arrows, record columns, kinds.

Everything that reads, parses, frames, checks or shows a quote takes these names from here, so
a spelling is never written twice. This module imports nothing: it is the bottom layer.
"""

from __future__ import annotations

# The fields of a quote, in the order a quote line shows them.
QUOTE_FIELDS = ("symbol", "price", "direction", "arrow", "change", "percent")
# The fields holding a shown number (rounding, decimals, look-alike digits).
NUMBER_FIELDS = ("price", "change", "percent")

# Direction words as the feed spells them.
INCREASED = "Increased By"
DECREASED = "Decreased By"
NO_CHANGE = "No Change"
DIRECTION_WORDS = (INCREASED, DECREASED, NO_CHANGE)

# Arrows as published: `▲` for a rise, `▼` for a fall (and for `No Change`).
ARROW_UP = "▲"
ARROW_DOWN = "▼"
ARROWS = (ARROW_UP, ARROW_DOWN)
# Glyphs that look like an arrow but are not the feed's (reported as invalid arrows).
LOOKALIKE_ARROWS = ("△", "▽", "↑", "↓")
# The mojibake scrapers make of the arrows (UTF-8 read as Windows-1252 or Latin-1), with the
# arrow each one stands for: it keeps its meaning but is reported.
MOJIBAKE_ARROW_MEANING = {
    "â–²": ARROW_UP,
    "â–¼": ARROW_DOWN,
    "â\u0096²": ARROW_UP,
    "â\u0096¼": ARROW_DOWN,
}
MOJIBAKE_ARROWS = frozenset(MOJIBAKE_ARROW_MEANING)
# What each arrow text means.
ARROW_MEANING = {ARROW_UP: ARROW_UP, ARROW_DOWN: ARROW_DOWN, **MOJIBAKE_ARROW_MEANING}
# Every text the parser reads as an arrow.
ARROW_TEXTS = (*ARROWS, *LOOKALIKE_ARROWS, *MOJIBAKE_ARROW_MEANING)

# Kinds of quote: an index (`KSE100`) or a stock; the profile tells them apart.
STOCK = "stock"
INDEX = "index"

# Columns of a CSV, TSV or JSON file of already-parsed quotes (a DataFrame too): the fields a
# record must have, and the optional ones (an arrow, and where the record was found).
RECORD_REQUIRED = ("symbol", "price", "direction", "change", "percent")
RECORD_OPTIONAL = ("arrow", "line", "column", "source")
# The quote fields a record may hold.
RECORD_FIELDS = (*RECORD_REQUIRED, "arrow")


def text_column(field: str) -> str:
    """The column holding a field's text as shown in the source (`price_text`)."""
    return f"{field}_text"


def place_column(field: str) -> str:
    """The column holding the 1-based column where a field starts (`price_col`)."""
    return f"{field}_col"
