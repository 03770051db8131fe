"""Benchmark datasets: the sample plan, the Zarr store, the schema check and the torch datasets.

* :mod:`prelib.data.schema` — :func:`validate_benchmark` for Swath-MPR and Full-IPR (synthetic or
  real: both paths write the schema of :mod:`prelib.conventions`);
* :mod:`prelib.data.benchmark_config` — sizes and dry-patch filtering per profile;
* :mod:`prelib.data.splits` and :mod:`prelib.data.sample_plan` — sample index → (time, place,
  regime, seed), with deterministic rejection of dry patches;
* :mod:`prelib.data.samples` — one benchmark sample from the synthetic world;
* :mod:`prelib.data.store` — where a store lives, parallel atomic writing, reading;
* :mod:`prelib.data.build` — the builders: synthetic (:mod:`~prelib.data.build.synthetic`) and
  from real product files (:mod:`~prelib.data.build.real`), on one execution module
  (:mod:`~prelib.data.build.execution`: local processes or a dask cluster, one progress bar);
* :mod:`prelib.data.regions` — any lat/lon box as one scene, and the named case studies;
* :mod:`prelib.data.transforms` and :mod:`prelib.data.datasets` — normalisation, valid masks and
  torch ``Dataset`` / ``DataLoader`` for training.

Nothing heavy is imported here; import the submodule you need.
"""
