"""Writes the demo site's photos: tiny real PNG files (a colour gradient each), a few hundred bytes.

Run once after changing the list; the files are committed. ``python demo/make_images.py``
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

IMAGES = {  # file name -> (top colour, bottom colour)
    "hoi-nghi-cong-an.png": ((176, 32, 32), (250, 220, 120)),
    "lua-thu-dong.png": ((40, 120, 40), (230, 210, 90)),
    "cau-binh-hoa.png": ((60, 110, 170), (200, 200, 200)),
    "don-ca-tai-tu.png": ((120, 40, 110), (250, 180, 90)),
    "bong-da.png": ((20, 140, 60), (240, 240, 240)),
    "lua-dao-qua-mang.png": ((30, 30, 60), (90, 160, 220)),
    "huan-chuong.png": ((200, 40, 30), (250, 210, 0)),
    "logo.png": ((0, 90, 160), (255, 255, 255)),
}
WIDTH, HEIGHT = 48, 30


def png(top: tuple[int, int, int], bottom: tuple[int, int, int]) -> bytes:
    """An 8-bit RGB PNG with a vertical gradient from ``top`` to ``bottom``."""
    rows = bytearray()
    for y in range(HEIGHT):
        t = y / (HEIGHT - 1)
        pixel = bytes(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        rows += b"\x00" + pixel * WIDTH  # filter type 0 per row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b""))


def main() -> None:
    folder = Path(__file__).parent / "site" / "images"
    folder.mkdir(parents=True, exist_ok=True)
    for name, (top, bottom) in IMAGES.items():
        (folder / name).write_bytes(png(top, bottom))


if __name__ == "__main__":
    main()
