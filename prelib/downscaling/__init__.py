"""Satellite-precipitation bias correction and downscaling: MAUNet, MAUNet-Light, PrecipDiff.

* :mod:`~prelib.models.maunet` — MAUNet (Sharma & Mitra 2024), bias correction and ×f;
* :mod:`~prelib.downscaling.distillation` — MAUNet-Light (Sharma, Mitra & Ganguly 2026);
* :mod:`~prelib.models.edm`, :mod:`~.diffusion_unet`, :mod:`~.precipdiff` — PrecipDiff
  (Dai & Ushijima-Mwesigwa 2025) on an EDM core (Karras et al. 2022), and the CorrDiff-style
  regression mean;
* baselines — :mod:`~.fields` (interpolation), :mod:`~.quantile_mapping`, :mod:`~.rainfarm`;
* data — :mod:`~.bias_model`, :mod:`~.data` (synthetic world and MRMS, semi-synthetic);
* :mod:`~.inference` (:func:`downscale_field`), :mod:`~.evaluation`, :mod:`~.experiment`,
  :mod:`~.training`, :mod:`~.checkpoint`, :mod:`~.commands` (``prelib downscale``).

Importing this package does not import torch; import the submodules you need.
"""
