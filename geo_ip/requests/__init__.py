"""The requests: intake, addresses, offline geocoding, privacy, the Commission's input files."""
