"""The Commission's web app (``geo-ip servir``): FastAPI, server-rendered Jinja2 pages.

:func:`geo_ip.webapp.app.create_app` builds the app for a registry;
:mod:`geo_ip.webapp.security` holds the roles, sessions, CSRF and headers;
:mod:`geo_ip.webapp.users` the users and their passwords; :mod:`geo_ip.webapp.routes`
the pages, one module per area.
"""
