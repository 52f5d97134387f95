"""Exit statuses, named: what a pipeline can act on."""

from enum import IntEnum


class ExitStatus(IntEnum):
    """The documented exit statuses of `quotecheck`."""

    OK = 0  # no finding at or above the fail level
    FINDINGS = 1  # at least one finding at or above the fail level (or over --max-errors)
    USAGE = 2  # bad usage, or an input that cannot be read
    INTERNAL = 3  # quotecheck itself failed; the message says where
