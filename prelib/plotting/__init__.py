"""Figures: precipitation colour scales, offline Cartopy maps, sensor panels."""
