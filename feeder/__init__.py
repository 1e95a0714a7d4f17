"""feeder: publishes RSS 2.0, Atom 1.0 and JSON Feed files for news sites that have none."""

__version__ = "0.1.0"

__all__ = ["__version__"]
