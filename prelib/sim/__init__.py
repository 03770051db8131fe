"""The synthetic PRE world: geography, weather, clouds, sensor forward operators and orbits.

The public entry points are :func:`simulate_grid_scene` and :func:`simulate_swath_scene`
(:mod:`prelib.sim.scene`); the building blocks live in their own modules (``geography``,
``terrain``, ``climate``, ``regimes``, ``weather``, ``orographic``, ``clouds``, ``ir``, ``pmw``,
``radar``, ``label``, ``orbit``, ``seeding``, ``noise``, ``cache``) and ``calibration``
measures the information each modality carries about the label (sizes in ``config`` /
``prelib/profiles/sim.yaml``).
"""

from prelib.sim.scene import SENSORS, simulate_grid_hours, simulate_grid_scene, simulate_swath_scene

__all__ = ["SENSORS", "simulate_grid_hours", "simulate_grid_scene", "simulate_swath_scene"]
