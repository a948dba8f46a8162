"""Readers of the outside world: OpenStreetMap, the grid, terrain, spreadsheets, the catalog."""
