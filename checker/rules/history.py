"""The rules across snapshots (family `history`, QC6xx, scope `archive`): declared here, checked by
checker.history.engine.

Their checks need the whole archive, not one page, so they are declared without a frame check
and run by `history_findings` after every page has been checked on its own.
"""

from __future__ import annotations

from checker.findings import Severity
from checker.rules.registry import declare

PREVIOUS_CLOSE_BREAK = "QC601"
SESSION_PREVIOUS_CLOSE_DISAGREES = "QC602"
STALE_SNAPSHOT = "QC603"
STALE_BLOCK = "QC604"
CLOSED_DAY_FIGURES = "QC605"
INDEX_MISSING = "QC606"
CAPTURE_ORDER = "QC607"
SYMBOLS_CHANGED = "QC608"

declare(
    code=PREVIOUS_CLOSE_BREAK,
    name="previous-close-break",
    severity=Severity.ERROR,
    summary="A previous close is not the last session's close.",
    description=(
        "For two consecutive sessions, a stock's previous close (price - change) on a snapshot of the "
        "later session equals, to the paisa, its price on the closing snapshot of the earlier one. "
        "With date-only stamps the earlier snapshot counts as closing when at least 90% of at least 5 "
        "common stocks chain; then each stock that does not is a break. An index chains when the "
        "intervals its shown digits admit meet, and only the indices the profile lists as chaining "
        "are compared (BR100 and BR30 are published at another moment). Error for a stock; a finding "
        "on an index is a warning (the severity is set per finding)."
    ),
    passing=(
        "page 2024-12-03T1545.txt: AIRLINK 200.92 Increased By ▲ 1.10 (0.55%)\n"
        "page 2024-12-04T1545.txt: AIRLINK 201.50 Increased By ▲ 0.58 (0.29%)"
    ),
    failing=(
        "page 2024-12-03T1545.txt: AIRLINK 200.92 Increased By ▲ 1.10 (0.55%)\n"
        "page 2024-12-04T1545.txt: AIRLINK 201.50 Increased By ▲ 1.21 (0.6%)   "
        "(previous close 200.29, not 200.92)"
    ),
    scope="archive",
)(None)

declare(
    code=SESSION_PREVIOUS_CLOSE_DISAGREES,
    name="session-previous-close-disagrees",
    severity=Severity.ERROR,
    summary="Two snapshots of one session show different previous closes.",
    description=(
        "Prices move within a session; the previous close (the close of the session before) does "
        "not. Every snapshot of one session shows the same previous close for a stock, and for an "
        "index intervals that meet. The finding sits on the snapshot that differs from the others "
        "of its session (with two, on the later one)."
    ),
    passing=(
        "page 2023-08-11T1000.txt: OGDC 221.20 Decreased By ▼ -0.95 (-0.43%)\n"
        "page 2023-08-11T1400.txt: OGDC 222.00 Decreased By ▼ -0.15 (-0.07%)"
    ),
    failing=(
        "page 2023-08-11T1000.txt: OGDC 221.20 Decreased By ▼ -0.95 (-0.43%)\n"
        "page 2023-08-11T1400.txt: OGDC 222.00 Decreased By ▼ -0.25 (-0.11%)   "
        "(previous close 222.25, not 222.15)"
    ),
    scope="archive",
)(None)

declare(
    code=STALE_SNAPSHOT,
    name="stale-snapshot",
    severity=Severity.WARNING,
    summary="A snapshot repeats the figures of an earlier session.",
    description=(
        "A snapshot shows exactly the figures (every symbol's price, change and percent) of a "
        "snapshot of an earlier session: a cached page served again as a new one. A page crawled "
        "on a closed day showing the last close is of that same session and is not stale."
    ),
    passing=(
        "page 2024-12-06T1545.txt: BOP 10.39 Decreased By ▼ -0.10 (-0.95%)\n"
        "page 2024-12-07T1000.txt: BOP 10.39 Decreased By ▼ -0.10 (-0.95%)   (Saturday: same session)"
    ),
    failing=(
        "page 2024-12-06T1545.txt: BOP 10.39 Decreased By ▼ -0.10 (-0.95%)\n"
        "page 2024-12-09T1545.txt: BOP 10.39 Decreased By ▼ -0.10 (-0.95%)   (Monday: Friday's page again)"
    ),
    scope="archive",
)(None)

declare(
    code=STALE_BLOCK,
    name="stale-block",
    severity=Severity.WARNING,
    summary="One block of the ticker stopped refreshing.",
    description=(
        "Within one session, the index block (or the stock block) of two snapshots is identical "
        "while most of the other block moved (more than half of at least 5 common stocks, or of "
        "at least 2 common indices): one part of the ticker stopped refreshing. Each quote of the "
        "frozen block on the later snapshot is a finding."
    ),
    passing=(
        "page 2024-12-03T1000.txt: HUBC 132.30 ... / KSE100 114,977 Increased By 172.5 (0.15%)\n"
        "page 2024-12-03T1400.txt: HUBC 133.10 ... / KSE100 115,210 Increased By 405.5 (0.35%)"
    ),
    failing=(
        "page 2024-12-03T1000.txt: HUBC 132.30 ... / KSE100 114,977 Increased By 172.5 (0.15%)\n"
        "page 2024-12-03T1400.txt: HUBC 133.10 ... / KSE100 114,977 Increased By 172.5 (0.15%)   "
        "(stocks moved, the index block did not)"
    ),
    scope="archive",
)(None)

declare(
    code=CLOSED_DAY_FIGURES,
    name="closed-day-figures",
    severity=Severity.WARNING,
    summary="A snapshot of a closed day shows figures its session never showed.",
    description=(
        "A snapshot captured on a closed day (a weekend or holiday) shows the last session's "
        "figures. A price no snapshot of that session shows (when one of them was taken at or "
        "after the close, or is dated only), or a previous close none shows, is a finding; only "
        "when the archive holds a snapshot of that session."
    ),
    passing=(
        "page 2024-12-06T1545.txt: FFL 17.17 Decreased By ▼ -0.25 (-1.44%)\n"
        "page 2024-12-07T1000.txt: FFL 17.17 Decreased By ▼ -0.25 (-1.44%)"
    ),
    failing=(
        "page 2024-12-06T1545.txt: FFL 17.17 Decreased By ▼ -0.25 (-1.44%)\n"
        "page 2024-12-07T1000.txt: FFL 17.40 Decreased By ▼ -0.02 (-0.11%)   (no trading on Saturday)"
    ),
    scope="archive",
)(None)

declare(
    code=INDEX_MISSING,
    name="index-missing",
    severity=Severity.WARNING,
    summary="An index the other snapshots show is missing.",
    description=(
        "An index the profile lists, present on most other snapshots of the archive, is missing "
        "from a snapshot that has the rest of its ticker: every stock of its neighbours in time, "
        "and a ticker block not cut off. The finding sits on the snapshot's first quote."
    ),
    passing=(
        "page 2024-12-03T1000.txt: ... KSE100 114,977 ...\npage 2024-12-03T1400.txt: ... KSE100 115,210 ..."
    ),
    failing=(
        "page 2024-12-03T1000.txt: ... KSE100 114,977 ...\n"
        "page 2024-12-03T1400.txt: the same stocks, no KSE100 line\n"
        "page 2024-12-03T1500.txt: ... KSE100 115,100 ..."
    ),
    scope="archive",
)(None)

declare(
    code=CAPTURE_ORDER,
    name="capture-order",
    severity=Severity.WARNING,
    summary="The capture times and the figures give opposite orders.",
    description=(
        "The capture times put session S1 before S2, but the figures say the reverse: S1's "
        "previous closes are S2's prices (at least 90% of at least 5 common stocks). The stamps "
        "are wrong (a manifest or file names swapped). The finding sits on the later capture."
    ),
    passing=(
        "page 2024-12-03T1545.txt: AIRLINK 200.92 Increased By ▲ 1.10 (0.55%)\n"
        "page 2024-12-04T1545.txt: AIRLINK 201.50 Increased By ▲ 0.58 (0.29%)"
    ),
    failing=(
        "page 2024-12-03T1545.txt: AIRLINK 201.50 Increased By ▲ 0.58 (0.29%)\n"
        "page 2024-12-04T1545.txt: AIRLINK 200.92 Increased By ▲ 1.10 (0.55%)   (the later page's close "
        "is the earlier page's previous close)"
    ),
    scope="archive",
)(None)

declare(
    code=SYMBOLS_CHANGED,
    name="symbols-changed",
    severity=Severity.INFO,
    summary="Stocks entered or left the ticker between sessions.",
    description=(
        "The ticker's stock list is recomposed every few months: a stock shown in one session and "
        "not in the next (or the reverse) is noted, on the later session's snapshot."
    ),
    passing=("page 2024-12-03T1545.txt: AIRLINK ... BOP ...\npage 2024-12-04T1545.txt: AIRLINK ... BOP ..."),
    failing=(
        "page 2024-12-03T1545.txt: AIRLINK ... BOP ...\npage 2024-12-04T1545.txt: AIRLINK ... SNGP ...   "
        "(BOP left, SNGP entered)"
    ),
    scope="archive",
)(None)
