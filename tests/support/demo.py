"""``make demo``'s newspaper (demo/server.py) on a free 127.0.0.1 port, for tests.

``with demo_site() as base:`` serves demo/site in a thread and gives its ``http://127.0.0.1:PORT/``
base URL; the server is shut down on leaving the block.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

DEMO = Path(__file__).resolve().parent.parent.parent / "demo"


@cache
def demo_module(name: str) -> ModuleType:
    """demo/<name>.py, loaded from its file (demo/ is not a package and not on sys.path)."""
    spec = importlib.util.spec_from_file_location(f"demo_{name}", DEMO / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def server_module() -> ModuleType:
    """demo/server.py: the demo newspaper."""
    return demo_module("server")


@contextmanager
def demo_hub() -> Iterator[Any]:
    """demo/hub.py's recording WebSub hub on a free port; yields its ``Hub`` (``.url``,
    ``.pings``, ``.wait_for``)."""
    server = demo_module("hub").make_server(0)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.hub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def demo_site() -> Iterator[str]:
    server = server_module().make_server(0)
    # A short poll interval keeps shutdown fast.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
