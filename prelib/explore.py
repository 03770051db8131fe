"""An interactive case explorer: pick a place and time, run every method, compare them live.

:class:`CaseExplorer` holds the logic and is driven from Python (and from tests): open a named
case (:data:`prelib.data.regions.CASE_STUDIES`), any box and time of the synthetic world, or a
scene of your own (e.g. a real AGRI file read by :func:`prelib.readers.agri.read_agri_l1`);
it simulates the case's hours, runs every retrieval method on each hour, and draws truth,
methods or method − truth on offline Cartopy maps, with the IR spectrum and the rain by method
of a chosen pixel. :meth:`CaseExplorer.widget` wraps it in ipywidgets for notebooks
(``notebooks/08_explore.ipynb``): a case menu and region boxes, an hour slider, a
truth / methods / difference toggle, lon/lat boxes (or a click, with an interactive matplotlib
backend) for the pixel.

On synthetic cases and regions the hours are one evolving storm
(:func:`prelib.data.regions.simulate_region_hours`): the first hour's rain and clouds move on
with the steering wind, grow or decay, and renew their cells from hour to hour, so the hour
slider follows the same weather; hourly scenes of your own (:meth:`CaseExplorer.open_scenes`,
e.g. consecutive AGRI images) show the real evolution.

A *method* is any callable ``method(ir, lat, lon) -> rain``: ``ir`` (8, y, x) brightness
temperature in K (AGRI channels C07–C14), ``lat``/``lon`` (y, x) degrees, ``rain`` (y, x) in
mm h-1. :func:`network_method` wraps PRE-Net / UNet retrievals (tiled inference),
:func:`baseline_method` the fitted IR baselines, and :func:`load_methods` builds the usual set
from a pipeline run's folder (:class:`prelib.workflow.artefacts.RunLayout`: the networks in
``models/``) and its Full-IPR training store.

Example
-------
>>> methods, notes = load_methods("outputs/tiny", "tiny", data_dir="data")  # doctest: +SKIP
>>> explorer = CaseExplorer(methods).open_case("orographic")  # doctest: +SKIP
>>> explorer.select_pixel(27.5, 86.0).rain  # doctest: +SKIP
>>> explorer.widget()  # in a notebook  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from prelib import conventions as cv

if TYPE_CHECKING:
    from prelib.config import RunConfig
    from prelib.workflow.artefacts import RunLayout

Method = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
"""``method(ir (8, y, x) K, lat (y, x), lon (y, x)) -> rain (y, x) mm h-1``."""

VIEWS: tuple[str, ...] = ("truth", "methods", "difference")
"""What the maps show: the hourly label, every method's retrieval, or method − truth."""

TRUTH: str = "truth"
"""Name of the hourly label in :attr:`PixelReport.rain`."""

DEFAULT_HOURS: int = 3
"""Hours a case spans by default (the case's hour and the two after it)."""


def network_method(model, device: str | None = None) -> Method:
    """A retrieval method from a network ``x (B, 8, H, W) -> rain (B, 1, H, W)`` (tiled)."""
    from prelib.inference.retrieval import retrieve_precipitation

    def method(ir: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        return retrieve_precipitation(model, ir, lat, lon, device=device)[cv.VAR_PRECIP].values

    return method


def baseline_method(baseline) -> Method:
    """A retrieval method from a fitted IR baseline (``predict(ir (N, 8, H, W)) -> (N, H, W)``)."""

    def method(ir: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        return np.asarray(baseline.predict(ir[None])[0], dtype=np.float32)

    return method


NETWORKS: tuple[str, ...] = ("prenet", "unet")
"""Network methods of :func:`load_methods`: the adapted PRE-Net and the IR-only UNet."""


def _network_checkpoints(
    layout: RunLayout, network: str, variant: str, distiller: str, prefer: str
) -> dict[str, Path]:
    """``{task: checkpoint}`` of ``network`` in the run; raises FileNotFoundError naming the
    folder and the command that trains it."""
    from prelib.workflow.artefacts import find_checkpoint
    from prelib.workflow.networks import TASKS

    if network == "prenet":
        folders = {task: layout.adapted_dir(variant, task) for task in TASKS}
        command = f"prelib train adapt --variant {variant} --run-dir {layout.root}"
    else:
        folders = {task: layout.student_dir(distiller, task) for task in TASKS}
        command = f"prelib train distill --variant {distiller} --run-dir {layout.root}"
    try:
        return {task: find_checkpoint(folder, prefer) for task, folder in folders.items()}
    except FileNotFoundError as err:
        raise FileNotFoundError(
            f"{err}; train it with `{command}` or the notebook pipeline (`prelib pipeline run`)"
        ) from None


def _load_network(path: Path, network: str, task: str, variant: str, distiller: str, cfg):
    """One network, rebuilt from the configuration its checkpoint stores (``cfg.models`` for
    files written before checkpoints stored it)."""
    from prelib.workflow import networks

    try:
        models = networks.checkpoint_models(path)
    except ValueError:
        models = cfg.models
    if network == "prenet":
        return networks.load_adapted(path, task=task, variant=variant, models=models)
    return networks.load_student(path, task=task, distiller=distiller, models=models)


def load_methods(
    run: RunLayout | str | Path,
    cfg: RunConfig | str,
    *,
    data_dir: str | Path | None = None,
    checkpoints: Mapping[str, Mapping[str, str | Path]] | None = None,
    baselines: tuple[str, ...] = ("gpi", "persiann_ccs"),
    adapted_variant: str = "selfmask",
    unet_distiller: str = "none",
    prefer: str = "best",
    device: str | None = None,
) -> tuple[dict[str, Method], list[str]]:
    """The explorer's usual methods: PRE-Net, the IR-only UNet and classical IR baselines.

    Parameters
    ----------
    run : RunLayout or path-like
        The pipeline's run folder (``outputs/<profile>``): PRE-Net is the Stage-II pair of
        ``models/adapted-<adapted_variant>/{cls,reg}/``, the UNet the Stage-I pair of
        ``models/student-<unet_distiller>/{cls,reg}/`` (see :mod:`prelib.workflow.artefacts`).
        A network whose checkpoints are missing is left out and said so in ``notes``.
    cfg : RunConfig or str
        The run's configuration (:func:`prelib.config.resolve`), or a profile name resolved
        here: its ``profile`` and ``data.seed`` name the Full-IPR training store on which the
        baselines are fitted, and its ``models`` rebuild checkpoints that store no configuration
        of their own.
    data_dir : path-like, optional
        Data folder of the benchmark stores (default: the layout's, ``PRELIB_DATA_DIR``); a
        missing training store is built there.
    checkpoints : mapping, optional
        Explicit checkpoints instead of the run folder's, ``{"prenet" | "unet": {"cls": path,
        "reg": path}}``.
    baselines : tuple of str
        Names for :func:`prelib.baselines.get_baseline` (empty: no baselines, no store).
    adapted_variant : str
        Full-Disc Adaptation variant of PRE-Net (``selfmask``: Self-MaskTune).
    unet_distiller : str
        Stage-I distiller of the UNet (``none``: trained on labels only).
    prefer : {"best", "last"}
        Which checkpoint of a run folder (the other one when it is missing).
    device : str, optional
        Device of the networks.

    Returns
    -------
    methods : dict[str, Method]
        Display name → method, in the order PRE-Net, UNet, baselines.
    notes : list of str
        What was left out and why.

    Raises
    ------
    ValueError
        ``checkpoints`` names an unknown network or lacks a task.
    FileNotFoundError
        An explicit checkpoint does not exist.
    """
    from prelib.baselines import get_baseline
    from prelib.config import resolve
    from prelib.data.store import open_benchmark
    from prelib.inference.composition import TwoNetworkRetrieval
    from prelib.plotting.layout import display_name
    from prelib.workflow import RunLayout, ensure_benchmarks
    from prelib.workflow.networks import TASKS

    cfg = resolve(cfg) if isinstance(cfg, str) else cfg
    layout = run if isinstance(run, RunLayout) else RunLayout(run)
    if data_dir is not None:
        layout = dataclasses.replace(layout, data_root=Path(data_dir))
    explicit = {name: dict(paths) for name, paths in (checkpoints or {}).items()}
    for name, paths in explicit.items():
        if name not in NETWORKS or set(paths) != set(TASKS):
            raise ValueError(
                f"checkpoints must map {list(NETWORKS)} to {{'cls': path, 'reg': path}}, "
                f"got {name!r}: {sorted(paths)}"
            )
        for task, path in paths.items():
            if not Path(path).is_file():
                raise FileNotFoundError(f"no {name} {task} checkpoint at {path}")
    methods: dict[str, Method] = {}
    notes: list[str] = []
    for network in NETWORKS:
        if network in explicit:
            paths = {task: Path(path) for task, path in explicit[network].items()}
        else:
            try:
                paths = _network_checkpoints(
                    layout, network, adapted_variant, unet_distiller, prefer
                )
            except FileNotFoundError as err:
                notes.append(f"{display_name(network)} left out: {err}")
                continue
        nets = [
            _load_network(paths[t], network, t, adapted_variant, unet_distiller, cfg)
            for t in ("cls", "reg")
        ]
        methods[display_name(network)] = network_method(TwoNetworkRetrieval(*nets), device)
    if baselines:
        stores = ensure_benchmarks(cfg, layout, kinds=("fulldisc",), splits=("train",))
        train = open_benchmark(stores["fulldisc", "train"]).load()
        for name in baselines:
            model = get_baseline(name)
            model.fit(train[cv.VAR_IR].values, train[cv.VAR_PRECIP].values)
            methods[display_name(name)] = baseline_method(model)
    return methods, notes


@dataclasses.dataclass(frozen=True)
class PixelReport:
    """What the explorer knows about one pixel at the current hour.

    Attributes
    ----------
    lat, lon : float
        Centre of the pixel nearest to the requested point (degrees).
    y, x : int
        Its grid indices.
    channels : tuple of str
        AGRI channel labels.
    wavelengths_um : tuple of float
        Their central wavelengths (µm).
    brightness_temperature_k : tuple of float
        The IR spectrum (K).
    rain : dict[str, float]
        ``"truth"`` (when the scene has a label) and every method → rain rate (mm h-1).
    """

    lat: float
    lon: float
    y: int
    x: int
    channels: tuple[str, ...]
    wavelengths_um: tuple[float, ...]
    brightness_temperature_k: tuple[float, ...]
    rain: dict[str, float]


class CaseExplorer:
    """Simulate (or take) a scene's hours, run every method on each, and draw the comparison.

    Parameters
    ----------
    methods : mapping of str to Method
        Display name → retrieval method (see the module docstring); at least one.
    hours : int
        Hours a case or region spans (the opening hour and the ones after it).
    resolution_km : float
        Grid spacing of simulated scenes (4 km: the Full-IPR grid).
    """

    def __init__(
        self, methods: Mapping[str, Method], hours: int = DEFAULT_HOURS, resolution_km=4.0
    ) -> None:
        if not methods:
            raise ValueError("the explorer needs at least one retrieval method, got none")
        if not isinstance(hours, int) or hours < 1:
            raise ValueError(f"hours must be a positive integer, got {hours!r}")
        self.methods = dict(methods)
        self.hours = hours
        self.resolution_km = float(resolution_km)
        self.title = ""
        self.scenes: list[xr.Dataset] = []
        self.retrievals: list[dict[str, np.ndarray]] = []
        self.hour = 0
        self.view = "methods"
        self.pixel: PixelReport | None = None
        self.case: str | None = None
        """Name of the opened case study (``None`` for a region or your own scenes)."""

    # -- choosing what to look at --------------------------------------------------------------
    def open_case(self, name: str) -> CaseExplorer:
        """Open a named case study for :attr:`hours` hours from its time."""
        from prelib.data.regions import check_case

        case = check_case(name)
        self.open_region(
            case.lat_bounds,
            case.lon_bounds,
            case.time,
            seed=case.seed,
            regime=case.regime,
            title=f"{name} case — {case.description}",
        )
        self.case = name
        return self

    def open_region(
        self,
        lat_bounds: tuple[float, float],
        lon_bounds: tuple[float, float],
        time,
        seed: int = 0,
        regime: str | None = None,
        title: str | None = None,
    ) -> CaseExplorer:
        """Open any box (degrees, inside 0–65°N, 60–160°E) of the synthetic world from ``time``
        (end of the first label hour, UTC) for :attr:`hours` hours: one storm that evolves from
        hour to hour (:func:`prelib.data.regions.simulate_region_hours`)."""
        from prelib.data.regions import simulate_region_hours

        scenes = simulate_region_hours(
            lat_bounds,
            lon_bounds,
            np.datetime64(time, "m"),
            self.hours,
            seed=seed,
            regime=regime,
            resolution_km=self.resolution_km,
        )
        box = f"{lat_bounds[0]:g}–{lat_bounds[1]:g}°N, {lon_bounds[0]:g}–{lon_bounds[1]:g}°E"
        return self.open_scenes(scenes, title or f"synthetic world, {box}")

    def open_scenes(self, scenes, title: str = "your scene") -> CaseExplorer:
        """Open one scene or a list of hourly scenes of your own.

        Each scene needs ``ir`` (ir_channel=8, y, x) in K with 2-D ``lat``/``lon`` coordinates
        (e.g. :func:`prelib.readers.agri.read_agri_l1` cut to a box); ``precip`` (y, x) mm h-1
        is optional (without it only the ``methods`` view is available).
        """
        scenes = [scenes] if isinstance(scenes, xr.Dataset) else list(scenes)
        if not scenes:
            raise ValueError("no scene to open")
        for index, scene in enumerate(scenes):
            if cv.VAR_IR not in scene or cv.VAR_LAT not in scene.coords:
                raise ValueError(f"scene {index} needs 'ir' (ir_channel, y, x) K and lat/lon")
            if scene[cv.VAR_IR].sizes.get(cv.DIM_IR_CHANNEL) != cv.N_IR:
                raise ValueError(
                    f"scene {index}: 'ir' must have {cv.N_IR} channels "
                    f"{list(cv.AGRI_IR_CHANNELS)}, got {scene[cv.VAR_IR].sizes}"
                )
        self.scenes = scenes
        self.retrievals = [self._retrieve(scene) for scene in scenes]
        self.case = None
        self.title = title
        self.hour = 0
        self.pixel = None
        if self.view != "methods" and not self.has_truth:
            self.view = "methods"
        return self

    def _retrieve(self, scene: xr.Dataset) -> dict[str, np.ndarray]:
        ir = scene[cv.VAR_IR].transpose(cv.DIM_IR_CHANNEL, *cv.GRID_DIMS).values
        lat, lon = scene[cv.VAR_LAT].values, scene[cv.VAR_LON].values
        out = {}
        for name, method in self.methods.items():
            rain = np.asarray(method(ir, lat, lon), dtype=np.float32)
            if rain.shape != lat.shape:
                raise ValueError(f"method {name!r} returned {rain.shape}, expected {lat.shape}")
            out[name] = rain
        return out

    # -- state -----------------------------------------------------------------------------------
    def _require_open(self) -> None:
        if not self.scenes:
            raise RuntimeError("open a case, a region or a scene first")

    @property
    def has_truth(self) -> bool:
        """Whether the scenes carry the hourly label."""
        return bool(self.scenes) and all(cv.VAR_PRECIP in s for s in self.scenes)

    @property
    def times(self) -> list[np.datetime64]:
        """Valid time of each hour (end of the label hour), UTC."""
        return [np.datetime64(s[cv.VAR_TIME].values, "m") for s in self.scenes]

    @property
    def scene(self) -> xr.Dataset:
        """The scene of the current hour."""
        self._require_open()
        return self.scenes[self.hour]

    def set_hour(self, hour: int) -> CaseExplorer:
        """Show hour ``hour`` (0 = the opening hour); the selected pixel follows."""
        self._require_open()
        if not 0 <= int(hour) < len(self.scenes):
            raise ValueError(f"hour must be in 0…{len(self.scenes) - 1}, got {hour}")
        self.hour = int(hour)
        if self.pixel is not None:
            self.select_pixel(self.pixel.lat, self.pixel.lon)
        return self

    def set_view(self, view: str) -> CaseExplorer:
        """``truth``, ``methods`` or ``difference`` (method − truth)."""
        if view not in VIEWS:
            raise ValueError(f"view must be one of {list(VIEWS)}, got {view!r}")
        if view != "methods" and self.scenes and not self.has_truth:
            raise ValueError(f"the {view!r} view needs a label ('precip'); this scene has none")
        self.view = view
        return self

    def fields(self) -> dict[str, np.ndarray]:
        """The (y, x) fields the current view draws, title → values (mm h-1)."""
        self._require_open()
        rain = self.retrievals[self.hour]
        if self.view == "truth":
            return {"truth (hourly label)": self.scene[cv.VAR_PRECIP].values}
        if self.view == "methods":
            if not self.has_truth:
                return dict(rain)
            return {"truth (hourly label)": self.scene[cv.VAR_PRECIP].values, **rain}
        label = self.scene[cv.VAR_PRECIP].values
        return {f"{name} − truth": values - label for name, values in rain.items()}

    def select_pixel(self, lat: float, lon: float) -> PixelReport:
        """Pick the pixel nearest to (``lat``, ``lon``) and report its spectrum and rain."""
        self._require_open()
        scene = self.scene
        grid_lat, grid_lon = scene[cv.VAR_LAT].values, scene[cv.VAR_LON].values
        inside = (
            np.nanmin(grid_lat) - 0.1 <= lat <= np.nanmax(grid_lat) + 0.1
            and np.nanmin(grid_lon) - 0.1 <= lon <= np.nanmax(grid_lon) + 0.1
        )
        if not inside:
            raise ValueError(
                f"({lat:g}°N, {lon:g}°E) lies outside the scene "
                f"({np.nanmin(grid_lat):.2f}–{np.nanmax(grid_lat):.2f}°N, "
                f"{np.nanmin(grid_lon):.2f}–{np.nanmax(grid_lon):.2f}°E)"
            )
        distance = (grid_lat - lat) ** 2 + ((grid_lon - lon) * np.cos(np.radians(lat))) ** 2
        y, x = np.unravel_index(int(np.nanargmin(distance)), distance.shape)
        ir = scene[cv.VAR_IR].transpose(cv.DIM_IR_CHANNEL, *cv.GRID_DIMS).values[:, y, x]
        channels = tuple(str(c) for c in scene[cv.DIM_IR_CHANNEL].values)
        lookup = dict(zip(cv.AGRI_IR_CHANNELS, cv.AGRI_IR_WAVELENGTHS_UM, strict=True))
        rain = {TRUTH: float(scene[cv.VAR_PRECIP].values[y, x])} if self.has_truth else {}
        rain |= {name: float(values[y, x]) for name, values in self.retrievals[self.hour].items()}
        self.pixel = PixelReport(
            lat=float(grid_lat[y, x]),
            lon=float(grid_lon[y, x]),
            y=int(y),
            x=int(x),
            channels=channels,
            wavelengths_um=tuple(float(lookup.get(c, np.nan)) for c in channels),
            brightness_temperature_k=tuple(float(v) for v in ir),
            rain=rain,
        )
        return self.pixel

    def on_click(self, event) -> PixelReport | None:
        """A matplotlib ``button_press_event`` handler: select the clicked map pixel."""
        if event.inaxes is None or event.xdata is None or not hasattr(event.inaxes, "projection"):
            return None
        try:
            return self.select_pixel(float(event.ydata), float(event.xdata))
        except ValueError:
            return None

    # -- drawing ---------------------------------------------------------------------------------
    def figure(self, panel_width: float = 3.6):
        """The current view on maps, plus the selected pixel's IR spectrum and rain by method.

        Returns
        -------
        matplotlib.figure.Figure
        """
        import cartopy.crs as ccrs
        import matplotlib.pyplot as plt

        from prelib.plotting.colormaps import precip_colorbar
        from prelib.plotting.layout import add_panel_letters
        from prelib.plotting.maps import add_land_and_coast, plot_precip_map

        self._require_open()
        scene = self.scene
        fields = self.fields()
        lat, lon = scene[cv.VAR_LAT].values, scene[cv.VAR_LON].values
        n_maps = len(fields)
        ncols = min(3, n_maps)
        rows = -(-n_maps // ncols)
        aspect = float(np.clip((np.ptp(lat) + 1e-6) / (np.ptp(lon) + 1e-6), 0.4, 2.0))
        side = 1 if self.pixel is not None else 0
        height = panel_width * aspect * rows + 1.3
        fig = plt.figure(
            figsize=(panel_width * (ncols + 1.2 * side) + 1.2, max(height, 5.5 * side)),
            layout="constrained",
        )
        grid_rows = max(rows, 2) if side else rows  # the pixel column holds two panels
        grid = fig.add_gridspec(grid_rows, ncols + (2 * side))
        axes, image = [], None
        lat_bounds = (float(np.nanmin(lat)), float(np.nanmax(lat)))
        lon_bounds = (float(np.nanmin(lon)), float(np.nanmax(lon)))
        for index, (name, values) in enumerate(fields.items()):
            cell = grid[:, index] if rows == 1 else grid[index // ncols, index % ncols]
            ax = fig.add_subplot(cell, projection=ccrs.PlateCarree())
            field = xr.DataArray(
                values,
                dims=cv.GRID_DIMS,
                coords={cv.VAR_LAT: (cv.GRID_DIMS, lat), cv.VAR_LON: (cv.GRID_DIMS, lon)},
                attrs={"units": cv.UNITS_PRECIP},
            )
            left, bottom = index % ncols == 0, index // ncols == rows - 1
            if self.view == "difference":
                ax.set_extent([*lon_bounds, *lat_bounds], crs=ccrs.PlateCarree())
                add_land_and_coast(ax, lat_bounds, lon_bounds, left, bottom, label_size=7)
                limit = max(float(np.nanpercentile(np.abs(values), 99.5)), 0.5)
                image = ax.pcolormesh(
                    lon,
                    lat,
                    np.ma.masked_invalid(values),
                    cmap="RdBu",
                    vmin=-limit,
                    vmax=limit,
                    shading="auto",
                    transform=ccrs.PlateCarree(),
                    zorder=2,
                )
                ax.set_title(name, fontsize=9)
            else:
                plot_precip_map(
                    field,
                    ax=ax,
                    title=name,
                    colorbar=False,
                    left_labels=left,
                    bottom_labels=bottom,
                )
            if self.pixel is not None:
                ax.plot(
                    self.pixel.lon,
                    self.pixel.lat,
                    marker="x",
                    color="k",
                    markersize=8,
                    transform=ccrs.PlateCarree(),
                    zorder=6,
                )
            axes.append(ax)
        if self.view == "difference":
            fig.colorbar(image, ax=axes, shrink=0.8).set_label(
                f"method − truth ({cv.UNITS_PRECIP})"
            )
        else:
            from prelib.plotting.colormaps import precip_cmap_norm

            cmap, norm = precip_cmap_norm()
            precip_colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), axes, shrink=0.8)
        if self.pixel is not None:
            axes += self._pixel_panels(fig, grid, ncols, grid_rows)
        add_panel_letters(axes, size=9)
        when = np.datetime_as_string(self.times[self.hour], unit="m")
        fig.suptitle(
            f"{self.title} — {when} UTC (hour {self.hour + 1} of {len(self.scenes)}), "
            f"view: {self.view}",
            fontsize=11,
        )
        return fig

    def _pixel_panels(self, fig, grid, ncols: int, rows: int) -> list:
        pixel = self.pixel
        half = rows // 2
        top = fig.add_subplot(grid[:half, ncols:])
        top.plot(pixel.wavelengths_um, pixel.brightness_temperature_k, "o-", color="0.2")
        for wavelength, bt, channel in zip(
            pixel.wavelengths_um, pixel.brightness_temperature_k, pixel.channels, strict=True
        ):
            top.annotate(
                channel,
                (wavelength, bt),
                fontsize=6,
                xytext=(2, 3),
                ha="left",
                textcoords="offset points",
            )
        top.set_xlabel("wavelength (µm)")
        top.set_ylabel("brightness temperature (K)")
        top.invert_yaxis()  # cold cloud tops up
        top.set_title(f"IR spectrum at {pixel.lat:.2f}°N, {pixel.lon:.2f}°E", fontsize=9)
        bottom = fig.add_subplot(grid[half:, ncols:])
        names = list(pixel.rain)
        colours = ["k" if name == TRUTH else "tab:blue" for name in names]
        bottom.barh(range(len(names)), [pixel.rain[n] for n in names], color=colours)
        bottom.set_yticks(range(len(names)), names, fontsize=7)
        bottom.invert_yaxis()
        values = [pixel.rain[n] for n in names if np.isfinite(pixel.rain[n])]
        bottom.set_xlim(0, max([1.0, *values]) * 1.1)  # a dry pixel still shows a rain axis
        bottom.set_xlabel(f"rain ({cv.UNITS_PRECIP})")
        bottom.set_title("rain by method at the pixel", fontsize=9)
        return [top, bottom]

    # -- widgets ---------------------------------------------------------------------------------
    def widget(self):
        """An ipywidgets panel driving this explorer (see :class:`ExplorerWidget`)."""
        return ExplorerWidget(self)


class ExplorerWidget:
    """ipywidgets controls for a :class:`CaseExplorer`; ``.box`` is the displayable panel.

    Every control's callback is a method (``on_open``, ``on_hour``, ``on_view``, ``on_pixel``)
    so that tests drive them from Python; each redraw increments :attr:`renders`.
    """

    def __init__(self, explorer: CaseExplorer) -> None:
        import ipywidgets as w

        from prelib.data.regions import CASE_STUDIES

        self.explorer = explorer
        self.renders = 0
        self.message = ""
        self.figure = None
        self.source = w.Dropdown(
            options=[*CASE_STUDIES, "region"],
            value=explorer.case or (next(iter(CASE_STUDIES)) if not explorer.scenes else "region"),
            description="case",
        )
        self.lat = w.FloatRangeSlider(value=(28, 32), min=0, max=65, step=0.5, description="lat")
        self.lon = w.FloatRangeSlider(
            value=(110, 116), min=60, max=160, step=0.5, description="lon"
        )
        self.time = w.Text(value="2021-07-15T06:00", description="time UTC")
        self.open_button = w.Button(description="open and run all methods")
        self.hour = w.IntSlider(
            value=explorer.hour,
            min=0,
            max=max(len(explorer.scenes) or explorer.hours, 1) - 1,
            description="hour",
        )
        self.view = w.ToggleButtons(options=list(VIEWS), value=explorer.view, description="view")
        self.pixel_lat = w.FloatText(value=30.0, description="pixel lat")
        self.pixel_lon = w.FloatText(value=113.0, description="pixel lon")
        self.pixel_button = w.Button(description="show pixel")
        self.status = w.HTML()
        self.out = w.Output()
        self.open_button.on_click(self.on_open)
        self.hour.observe(self.on_hour, names="value")
        self.view.observe(self.on_view, names="value")
        self.pixel_button.on_click(self.on_pixel)
        self.box = w.VBox(
            [
                w.HBox([self.source, self.time, self.open_button]),
                w.HBox([self.lat, self.lon]),
                w.HBox([self.hour, self.view]),
                w.HBox([self.pixel_lat, self.pixel_lon, self.pixel_button]),
                self.status,
                self.out,
            ]
        )

    def _ipython_display_(self) -> None:  # pragma: no cover - notebook display
        from IPython.display import display

        display(self.box)

    def _say(self, text: str) -> None:
        self.message = text
        self.status.value = f"<i>{text}</i>"

    def redraw(self) -> None:
        """Redraw the explorer's figure into the output area."""
        import matplotlib
        import matplotlib.pyplot as plt

        if not self.explorer.scenes:
            return
        if self.figure is not None:
            plt.close(self.figure)
        figure = self.explorer.figure()
        interactive = "ipympl" in matplotlib.get_backend() or "widget" in matplotlib.get_backend()
        self.out.clear_output(wait=True)
        with self.out:
            from IPython.display import display

            if interactive:  # %matplotlib widget: a live canvas that takes clicks
                figure.canvas.mpl_connect("button_press_event", self._on_click)
                display(figure.canvas)
            else:  # a static image; closed so that the inline backend does not show it twice
                display(figure)
                plt.close(figure)
        self.figure = figure
        self.renders += 1

    def on_open(self, _button=None) -> None:
        """Open the chosen case, or the region boxes and time, and run every method."""
        try:
            if self.source.value == "region":
                self.explorer.open_region(self.lat.value, self.lon.value, self.time.value)
            else:
                self.explorer.open_case(self.source.value)
        except ValueError as err:
            self._say(str(err))
            return
        self.hour.max = len(self.explorer.scenes) - 1
        self.hour.value = 0
        self.view.value = self.explorer.view
        self._say(f"{self.explorer.title}: {len(self.explorer.methods)} methods")
        self.redraw()

    def on_hour(self, change) -> None:
        """Slider moved: show that hour."""
        if self.explorer.scenes:
            self.explorer.set_hour(change["new"])
            self.redraw()

    def on_view(self, change) -> None:
        """Toggle truth / methods / difference."""
        try:
            self.explorer.set_view(change["new"])
        except ValueError as err:
            self._say(str(err))
            return
        self.redraw()

    def on_pixel(self, _button=None) -> None:
        """Show the pixel at the lon/lat boxes."""
        try:
            report = self.explorer.select_pixel(self.pixel_lat.value, self.pixel_lon.value)
        except (ValueError, RuntimeError) as err:
            self._say(str(err))
            return
        rain = ", ".join(f"{name} {value:.2f}" for name, value in report.rain.items())
        self._say(f"pixel {report.lat:.2f}°N {report.lon:.2f}°E — {rain} mm h-1")
        self.redraw()

    def _on_click(self, event) -> None:  # pragma: no cover - needs an interactive backend
        report = self.explorer.on_click(event)
        if report is not None:
            self.pixel_lat.value, self.pixel_lon.value = report.lat, report.lon
            self.on_pixel()
