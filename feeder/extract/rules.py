"""Named, switchable rules of the body finder, so that each one can be judged on its own.

A narrow rule (a class-name exception, a line filter) is written while looking at a few pages;
``bench/accuracy.py --rules`` turns each one off in turn and measures what it adds on the sites it
was not written for. Code asks ``applies(name)`` only once the rule's own condition holds: that
records on which page the rule fired (so the bench re-extracts only those pages) and answers
whether the rule is switched on (always, outside the bench).
"""

from __future__ import annotations

# Rules switched off (by the bench only).
disabled: set[str] = set()
# Names of the rules that fired since the last ``fired.clear()`` (read by the bench).
fired: set[str] = set()


def applies(name: str) -> bool:
    """The rule ``name`` matched: record it, and say whether it is switched on."""
    fired.add(name)
    return name not in disabled
