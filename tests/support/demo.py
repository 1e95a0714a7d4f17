"""``make demo``'s newspaper (demo/server.py) on a free 127.0.0.1 port, for tests.

``with demo_site() as base:`` serves demo/site in a thread and gives its ``http://127.0.0.1:PORT/``
base URL; the server is shut down on leaving the block.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from types import ModuleType

DEMO = Path(__file__).resolve().parent.parent.parent / "demo"


@cache
def server_module() -> ModuleType:
    """demo/server.py, loaded from its file (demo/ is not a package and not on sys.path)."""
    spec = importlib.util.spec_from_file_location("demo_server", DEMO / "server.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
