"""The S3 output target against a real S3 API: moto's server on 127.0.0.1 (issue 11 §4).

``FEEDER_TEST_S3`` names a running endpoint (``.ci/run`` starts ``moto_server``); without it a
``ThreadedMotoServer`` is started on a free loopback port for the session.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from feeder.config import Config
from feeder.fetch import Fetcher
from feeder.pipeline import Poller
from feeder.store import Intent, Store
from tests.support.http import LoopbackServer
from tests.test_hostile_publish_converge import _serve
from tests.test_pipeline import make_config, poll_all, source

boto3 = pytest.importorskip("boto3")

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "feeder-test", "AWS_SECRET_ACCESS_KEY": "feeder-test",
               "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    if os.environ.get("FEEDER_TEST_S3"):
        yield os.environ["FEEDER_TEST_S3"]
        return
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A fresh bucket; yields a boto3 client with its ``.name``."""
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    name = f"feeds-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    client.name = name
    yield client


@pytest.fixture
def site() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


def _objects(client: Any, prefix: str) -> dict[str, bytes]:
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=client.name,
                                                                 Prefix=prefix):
        for o in page.get("Contents", ()):
            body = client.get_object(Bucket=client.name, Key=o["Key"])["Body"].read()
            out[o["Key"][len(prefix):]] = body
    return out


def _s3_config(cfg: Config, bucket: Any, s3_endpoint: str) -> Config:
    return replace(cfg, settings=replace(cfg.settings, s3_url=f"s3://{bucket.name}/feeds",
                                         s3_endpoint_url=s3_endpoint))


def _publish_all(cfg: Config, store: Store, *, force: bool = False) -> tuple[Poller, list[str]]:
    with Fetcher(cfg.settings) as fetcher:
        poller = Poller(cfg, store, fetcher)
        written = [p for s in cfg.sources for p in poller.publish(s, force=force)]
        written += poller.publish_site()
    return poller, written


def test_the_same_bytes_as_the_folder_with_headers(
        site: LoopbackServer, tmp_path: Path, database_url: str, bucket: Any,
        s3_endpoint: str) -> None:
    _serve(site, 3)
    cfg = make_config(tmp_path, database_url, source(site))
    poll_all(cfg)  # into the folder
    folder = {str(p.relative_to(cfg.settings.out)): p.read_bytes()
              for p in cfg.settings.out.rglob("*") if p.is_file()}

    store = Store(database_url)
    _publish_all(_s3_config(cfg, bucket, s3_endpoint), store, force=True)
    store.close()
    objects = _objects(bucket, "feeds/")
    public = {k: v for k, v in folder.items() if not k.startswith(".")}
    for name in ("thu/rss.xml", "thu/atom.xml", "thu/feed.json", "all/rss.xml", "index.html",
                 "feeds.opml", "status.json", "static/feed.xsl"):
        assert name in objects and f"{name}.gz" in objects, name
    assert {k: v for k, v in objects.items() if not k.startswith(".")} == public

    head = bucket.head_object(Bucket=bucket.name, Key="feeds/thu/rss.xml")
    assert head["ContentType"] == "application/rss+xml; charset=utf-8"
    assert head["CacheControl"] == "public, max-age=900"  # the source's 15-minute interval
    assert "ContentEncoding" not in head
    gz = bucket.head_object(Bucket=bucket.name, Key="feeds/thu/rss.xml.gz")
    assert gz["ContentType"] == head["ContentType"] and gz["ContentEncoding"] == "gzip"
    assert gzip.decompress(objects["thu/rss.xml.gz"]) == objects["thu/rss.xml"]
    status = bucket.head_object(Bucket=bucket.name, Key="feeds/status.json")
    assert status["CacheControl"] == "no-cache"
    assert bucket.head_object(Bucket=bucket.name, Key="feeds/index.html")[
        "ContentType"] == "text/html; charset=utf-8"


def test_no_put_when_the_bytes_are_unchanged(
        site: LoopbackServer, tmp_path: Path, database_url: str, bucket: Any,
        s3_endpoint: str) -> None:
    from tests.test_store import article

    _serve(site, 2)
    cfg = _s3_config(make_config(tmp_path, database_url, source(site)), bucket, s3_endpoint)
    poll_all(cfg)
    assert "thu/rss.xml" in _objects(bucket, "feeds/")

    store = Store(database_url)
    puts: list[str] = []
    with Fetcher(cfg.settings) as fetcher:
        poller = Poller(cfg, store, fetcher)
        poller.output.client.meta.events.register(  # type: ignore[attr-defined]
            "before-call.s3.PutObject", lambda params, **_: puts.append(params["url_path"]))
        poller.publish(cfg.sources[0], force=True)
        poller.publish_site()
        assert puts == []  # every object already holds these bytes

        new = replace(article(9), source="thu")
        store.apply("thu", [Intent("new", new, new.url)])
        written = poller.publish(cfg.sources[0])
        assert sorted(Path(p).name for p in written) == [
            "atom.xml", "atom.xml.gz", "feed.json", "feed.json.gz", "rss.xml", "rss.xml.gz"]
        assert len(puts) == 6
    store.close()
    assert new.url.encode() in _objects(bucket, "feeds/thu/")["rss.xml"]


def test_run_once_from_the_command_line_publishes_to_s3(
        site: LoopbackServer, tmp_path: Path, bucket: Any, s3_endpoint: str) -> None:
    from tests.support.site import write_config

    _serve(site, 2)
    config = write_config(
        tmp_path / "feeder.toml",
        {"out": f"s3://{bucket.name}/public", "s3_endpoint_url": s3_endpoint,
         "database": str(tmp_path / "feeder.db"), "host_delay": 0.0, "respect_robots": False},
        [{"id": "thu", "name": "Báo Thử", "url": site.url("/thoi-su/")}])
    env = {**os.environ, **CREDENTIALS}
    done = subprocess.run([sys.executable, "-m", "feeder", "--config", str(config), "-q", "run",
                           "--once"], cwd=Path(__file__).resolve().parent.parent, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    objects = _objects(bucket, "public/")
    assert {"thu/rss.xml", "thu/feed.json.gz", "index.html", "status.json"} <= set(objects)
    assert not (tmp_path / "public" / "thu").exists()  # nothing published locally


def test_an_unreachable_bucket_is_a_publish_error_of_the_poll(
        site: LoopbackServer, tmp_path: Path, database_url: str, bucket: Any,
        s3_endpoint: str) -> None:
    _serve(site, 1)
    cfg = make_config(tmp_path, database_url, source(site))
    cfg = replace(cfg, settings=replace(cfg.settings, s3_url="s3://no-such-bucket-here/x",
                                        s3_endpoint_url=s3_endpoint))
    [result] = poll_all(cfg)
    assert result.status == "error" and "no-such-bucket-here" in (result.error or ""), result


def test_a_bad_s3_url_is_a_configuration_error(tmp_path: Path) -> None:
    from feeder import config
    from feeder.errors import ConfigError

    path = tmp_path / "feeder.toml"
    path.write_text('[feeder]\nout = "s3://"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="s3://bucket/prefix"):
        config.load(path)
    path.write_text('[feeder]\nout = "s3://b/p"\ns3_endpoint_url = "http://127.0.0.1:9/"\n',
                    encoding="utf-8")
    settings = config.load(path).settings
    assert (settings.s3_url, settings.s3_endpoint_url) == ("s3://b/p", "http://127.0.0.1:9/")
