"""Batch runs over many municipalities on Dask (``geo-ip lote``)."""
