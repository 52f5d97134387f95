"""The rules: importing this package registers every rule in the registry."""

from checker.history import rules as _history_rules  # noqa: F401  (the QC6 rules across snapshots)
from checker.rules import consistency, format, parse_rules, plausibility, schema  # noqa: F401
from checker.rules.registry import REGISTRY, CheckContext, Rule, all_rules, get_rule

__all__ = ["REGISTRY", "CheckContext", "Rule", "all_rules", "get_rule"]
