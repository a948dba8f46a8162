"""QGIS deliverables: styled GeoPackage layers and the project file."""
