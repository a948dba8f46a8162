"""Technical sheets of each request (Art. 10): content, static map and PDF."""
