"""Everything an assessment writes: shared views, tables, web maps, QGIS, technical sheets."""
