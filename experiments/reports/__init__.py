"""Reports written from stored results: FINDINGS.md and the ODD parameter tables."""
