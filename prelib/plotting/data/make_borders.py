"""Rebuild ``borders_east_asia.npz`` from Natural Earth (kept for provenance; not imported).

Source: Natural Earth 1:10m admin-0 countries, version 4.1.0 (public domain), as redistributed
in TopoJSON by the npm package ``world-atlas`` 2.0.2 (``countries-10m.json``; ISC licence).
A land border is a TopoJSON arc shared by two different countries; coastlines (arcs of one
country) are left out: prelib draws coastlines from landmetrics. Arcs are kept if they touch
the box 15°S–80°N, 40–180°E, and stored as one float32 (2, n) lon/lat array with NaN between
lines.

Usage: ``npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz`` then
``python make_borders.py package/countries-10m.json``.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

BOX = (-15.0, 80.0, 40.0, 180.0)  # lat min, lat max, lon min, lon max


def _arcs(topology: dict) -> list[np.ndarray]:
    scale = np.array(topology["transform"]["scale"])
    translate = np.array(topology["transform"]["translate"])
    return [
        np.cumsum(np.array(a, dtype=float), axis=0) * scale + translate for a in topology["arcs"]
    ]


def _walk(arcs_field, owner: int, users: dict) -> None:
    if isinstance(arcs_field, int):
        users[arcs_field if arcs_field >= 0 else ~arcs_field].add(owner)
    else:
        for item in arcs_field:
            _walk(item, owner, users)


def main(path: str) -> None:
    topology = json.loads(Path(path).read_text())
    arcs = _arcs(topology)
    users: dict[int, set] = defaultdict(set)
    for number, geometry in enumerate(topology["objects"]["countries"]["geometries"]):
        if "arcs" in geometry:
            _walk(geometry["arcs"], number, users)
    lat0, lat1, lon0, lon1 = BOX
    pieces = []
    for index, owners in sorted(users.items()):
        if len(owners) < 2:
            continue
        line = arcs[index]
        inside = (
            (line[:, 1] >= lat0)
            & (line[:, 1] <= lat1)
            & (line[:, 0] >= lon0)
            & (line[:, 0] <= lon1)
        )
        if inside.any():
            pieces += [line.T.astype(np.float32), np.full((2, 1), np.nan, np.float32)]
    lines = np.concatenate(pieces, axis=1)
    target = Path(__file__).with_name("borders_east_asia.npz")
    np.savez_compressed(target, lonlat=lines)
    print(f"{target}: {lines.shape[1]} points, {target.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main(sys.argv[1])
