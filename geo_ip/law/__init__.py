"""Lei 5.442/2026 as pure functions: tables in, tables out, no file I/O."""
