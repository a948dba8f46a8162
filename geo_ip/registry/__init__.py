"""The program registry: the Commission's process in a database (issue 20).

SQLite embedded by default, PostgreSQL/PostGIS for a real deployment, the schema made by
Alembic migrations (:mod:`geo_ip.registry.db`). What it holds is listed in
:mod:`geo_ip.registry.models`; every change goes through :mod:`geo_ip.registry.store`
(and the inspection, meeting and proposal modules) and appends a hash-chained audit
event (:mod:`geo_ip.registry.audit`). :mod:`geo_ip.registry.live` ranks a cycle from
the registry through the same law functions as ``geo-ip avaliar``.
"""
