"""Command line of geo_ip (``geo-ip``): one module per command, a shared console."""
