"""Allows ``python -m feeder``."""

from feeder.cli import main

raise SystemExit(main())
