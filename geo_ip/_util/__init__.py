"""Small helpers that import nothing of geo_ip but its exceptions.

Atomic writes, the process pool, value parsing, safe spreadsheet cells, resource paths
and the version.
"""
