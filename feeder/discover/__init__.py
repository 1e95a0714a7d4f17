"""Listing page -> article links (see :mod:`feeder.discover.rules`)."""

from feeder.discover.rules import is_article_url, links

__all__ = ["is_article_url", "links"]
