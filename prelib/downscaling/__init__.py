"""Satellite-precipitation bias correction and downscaling: the story around the networks.

The networks and methods live in the shared rooms: MAUNet (Sharma & Mitra 2024) in
:mod:`prelib.models.maunet`, the MAUNet-Light distiller (Sharma, Mitra & Ganguly 2026) in
:mod:`prelib.models.maunet_light`, PrecipDiff (Dai & Ushijima-Mwesigwa 2025) and the
CorrDiff-style regression mean in :mod:`prelib.models.precipdiff` on the EDM core
:mod:`prelib.models.edm` (Karras et al. 2022) and :mod:`prelib.models.diffusion_unet`; their
training runs on :class:`prelib.training.trainer.Trainer` (:mod:`prelib.training.downscaling`);
quantile mapping and RainFARM are baselines (:mod:`prelib.baselines.quantile_mapping`,
:mod:`prelib.baselines.rainfarm`); grid helpers are :mod:`prelib.data.precip_grids`, spectra
:mod:`prelib.metrics.spectrum`. This package keeps:

* :mod:`~.config` — :class:`~.config.DownscalingConfig` (``cfg.downscaling``);
* :mod:`~.bias_model` and :mod:`~.data` — the satellite-like errors, and the pairs from the
  synthetic world and MRMS (semi-synthetic);
* :mod:`~.user_fields`, :mod:`~.user_data`, :mod:`~.regrid` — any user field, its pairs, and
  conservative regridding;
* :mod:`~.experiment` (data → trained models → table), :mod:`~.evaluation` (the table),
  :mod:`~.inference` (:func:`~.inference.downscale_field`) and :mod:`~.commands`
  (``prelib downscale``).

Importing this package does not import torch; import the submodules you need.
"""
