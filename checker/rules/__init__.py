"""The rules: importing this package registers every rule in the registry."""

from checker.rules import consistency, format, history, parse_rules, plausibility, schema  # noqa: F401
from checker.rules.registry import REGISTRY, CheckContext, Rule, all_rules, get_rule

__all__ = ["REGISTRY", "CheckContext", "Rule", "all_rules", "get_rule"]
