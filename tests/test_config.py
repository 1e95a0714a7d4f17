"""Configuration: defaults, feeds/*.toml, and errors that name file, source and key."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from feeder.config import load, parse_interval
from feeder.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_sources_from_main_file_and_feeds_folder(tmp_path: Path) -> None:
    cfg_file = write(tmp_path / "feeder.toml", """
[feeder]
out = "site"
database = "data/x.db"
base_url = "https://feeds.example.org/vn"

[[sources]]
id = "a"
name = "Báo A"
url = "https://a.example.vn/"
""")
    write(tmp_path / "feeds" / "b.toml", """
id = "b"
urls = ["https://b.example.vn/thoi-su/", "https://b.example.vn/kinh-te/"]
link_selector = "h3.title a"
timezone = "Europe/Berlin"
interval = "1h30m"
max_items = 20
""")
    cfg = load(cfg_file)
    assert [s.id for s in cfg.sources] == ["a", "b"]
    a, b = cfg.sources
    assert a.timezone == "Asia/Ho_Chi_Minh" and a.language == "vi" and a.max_items == 50
    assert b.urls == ("https://b.example.vn/thoi-su/", "https://b.example.vn/kinh-te/")
    assert b.interval == timedelta(minutes=90) and b.link_selector == "h3.title a"
    assert cfg.settings.out == (tmp_path / "site").resolve()
    assert cfg.settings.database == f"sqlite:///{(tmp_path / 'data/x.db').resolve()}"
    assert cfg.settings.base_url == "https://feeds.example.org/vn/"


@pytest.mark.parametrize(("value", "seconds"), [
    ("15m", 900), ("2h", 7200), ("1h30m", 5400), ("45s", 45), ("1d", 86400), (600, 600)])
def test_intervals(value: object, seconds: int) -> None:
    assert parse_interval(value).total_seconds() == seconds


@pytest.mark.parametrize(("feed", "source", "key", "words"), [
    ('id = "x"\nurl = "https://x.vn/"\ncolour = "red"\n', "x", "colour", "unknown key"),
    ('id = "x"\nurl = "https://x.vn/"\nmax_items = "many"\n', "x", "max_items", "expected"),
    ('id = "x"\nurl = "https://x.vn/"\ntimezone = "Mars/Olympus"\n', "x", "timezone",
     "unknown timezone"),
    ('id = "x"\nurl = "https://x.vn/"\nlink_selector = "a[[["\n', "x", "link_selector",
     "invalid CSS selector"),
    ('id = "x"\nurl = "ftp://x.vn/"\n', "x", "url", "http"),
    ('id = "x"\nurl = "https://x.vn/"\ninterval = "soon"\n', "x", "interval", "duration"),
    ('id = "X Y"\nurl = "https://x.vn/"\n', "X Y", "id", "lowercase"),
    ('id = "x"\n', "x", "url", "listing page"),
    ('id = "x"\nurl = "https://x.vn/"\nkind = "atom"\n', "x", "kind", "'sitemap'"),
    ('id = "x"\nurl = "https://x.vn/s.xml"\nkind = "sitemap"\nlink_selector = "a"\n', "x",
     "link_selector", "listing"),
    ('id = "x"\nurl = "https://x.vn/"\ninterval = "5m"\nmax_interval = "1h"\n', "x",
     "max_interval", "not both"),
    ('id = "x"\nurl = "https://x.vn/"\nmin_interval = "2h"\nmax_interval = "1h"\n', "x",
     "min_interval", "longer than max_interval"),
])
def test_bad_source_names_file_source_and_key(tmp_path: Path, feed: str, source: str, key: str,
                                               words: str) -> None:
    cfg_file = write(tmp_path / "feeder.toml", "[feeder]\n")
    feed_file = write(tmp_path / "feeds" / "x.toml", feed)
    with pytest.raises(ConfigError) as err:
        load(cfg_file)
    assert err.value.file == str(feed_file)
    assert err.value.source == source
    assert err.value.key == key
    assert words in str(err.value)
    assert str(feed_file) in str(err.value) and repr(key) in str(err.value)


def test_kinds_and_adaptive_bounds(tmp_path: Path) -> None:
    cfg_file = write(tmp_path / "feeder.toml", "[feeder]\n")
    write(tmp_path / "feeds" / "a.toml", 'id = "a"\nkind = "sitemap"\n'
          'url = "https://a.vn/sitemap.xml"\nmin_interval = "10m"\n')
    write(tmp_path / "feeds" / "b.toml", 'id = "b"\nkind = "feed"\nurl = "https://b.vn/rss"\n')
    a, b = load(cfg_file).sources
    assert (a.kind, a.adaptive, a.min_interval, a.max_interval, a.interval) == (
        "sitemap", True, timedelta(minutes=10), timedelta(hours=6), timedelta(minutes=10))
    assert (b.kind, b.adaptive, b.interval) == ("feed", False, timedelta(minutes=30))


def test_duplicate_source_id(tmp_path: Path) -> None:
    cfg_file = write(tmp_path / "feeder.toml", '[[sources]]\nid = "x"\nurl = "https://x.vn/"\n')
    write(tmp_path / "feeds" / "x.toml", 'id = "x"\nurl = "https://y.vn/"\n')
    with pytest.raises(ConfigError, match="duplicate source id") as err:
        load(cfg_file)
    assert err.value.source == "x" and err.value.key == "id"


def test_bad_setting_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load(write(tmp_path / "a.toml", '[feeder]\nbase_url = "not a url"\n'))
    assert err.value.key == "base_url"
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(write(tmp_path / "b.toml", "[feeder\n"))
    with pytest.raises(ConfigError, match="file not found"):
        load(tmp_path / "missing.toml")


def test_cli_exits_2_and_names_the_key(tmp_path: Path) -> None:
    cfg_file = write(tmp_path / "feeder.toml", "[feeder]\n")
    feed = write(tmp_path / "feeds" / "bad.toml",
                 'id = "bad"\nurl = "https://x.vn/"\nmax_items = -1\n')
    proc = subprocess.run([sys.executable, "-m", "feeder", "--config", str(cfg_file), "run",
                           "--once"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert str(feed) in proc.stderr and "'bad'" in proc.stderr and "'max_items'" in proc.stderr


def test_repository_configuration_is_valid() -> None:
    root = Path(__file__).resolve().parent.parent
    cfg = load(root / "feeder.toml")
    assert cfg.sources, "the bundled feeder.toml + feeds/ define the demo source"
