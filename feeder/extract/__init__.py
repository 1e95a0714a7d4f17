"""Page -> Article: the extraction stage (issue 3).

``extract(html, url)`` is a pure function: bytes or text in, the canonical record out, no network.
"""

from feeder.extract.core import DEFAULT_TIMEZONE, extract, extract_tree

__all__ = ["DEFAULT_TIMEZONE", "extract", "extract_tree"]
