"""Writers of product files in their exact real layouts, and small scenarios built from them.

:mod:`~prelib.writers.agri` (FY-4A/4B AGRI L1 FDI HDF5), :mod:`~prelib.writers.gpm` (GMI 1C,
DPR 2A, 2B-CMB, IMERG), :mod:`~prelib.writers.grids` (CLDAS-V2.0, PERSIANN-CCS / PDIR-Now) write
small or full-size files that :mod:`prelib.readers` reads back; :mod:`~prelib.writers.world_files`
writes the synthetic world as such raw files and :mod:`~prelib.writers.scenario` a simple analytic
overpass (tests, benchmarks, the real-data builder's end-to-end runs).
"""
