"""Checks across snapshots: times, sessions and the rules that no single page can make.

`history_findings` (in checker.history.engine) runs them over the quotes of a whole run.
"""
