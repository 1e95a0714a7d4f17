"""Validate published feeds with the W3C Feed Validation Service, offline.

Usage::

    python bench/validate_feeds.py /opt/feedvalidator OUT_DIR [BASE_URL]

``/opt/feedvalidator`` is a checkout (or ``git archive``) of https://github.com/w3c/feedvalidator;
it is never part of this repository. Run it with a Python that has lxml, html5lib and rdflib (the
validator's requirements), e.g. a separate venv. Every ``rss.xml`` and ``atom.xml`` under
``OUT_DIR``, and every RFC 5005 archive (``archive/YYYY-MM.xml``, ``.rss``), is validated as if
served from ``BASE_URL`` (default http://127.0.0.1:8080/, so the ``atom:link rel="self"``
matches); each message is printed; the exit status is 1 when any error or
warning was reported.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__)
        return 2
    checkout, out = Path(argv[1]), Path(argv[2])
    base = argv[3] if len(argv) > 3 else "http://127.0.0.1:8080/"
    sys.path.insert(0, str(checkout / "src"))
    import feedvalidator  # type: ignore[import-not-found]
    from feedvalidator import compatibility  # type: ignore[import-not-found]
    from feedvalidator.formatter.text_plain import Formatter  # type: ignore[import-not-found]

    bad = 0
    files = sorted(p for p in out.rglob("*") if p.name in ("rss.xml", "atom.xml")
                   or (p.parent.name == "archive" and p.suffix in (".xml", ".rss")))
    for path in files:
        url = base + path.relative_to(out).as_posix()
        try:
            events = feedvalidator.validateString(path.read_bytes(), firstOccurrenceOnly=0,
                                                  base=url)["loggedEvents"]
        except feedvalidator.logging.ValidationFailure as failure:
            events = [failure.event]
        # "AA" is the level of the online service: errors and warnings, not mere hints.
        events = compatibility.AA(events)
        lines = Formatter(events)
        status = "ok" if not lines else f"{len(lines)} message(s)"
        print(f"{path.relative_to(out)}: {status}")
        for line in lines:
            print("    " + line)
        bad += bool(lines)
    print(f"{len(files)} feed(s), {bad} with messages")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
