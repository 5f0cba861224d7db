"""The analyses: each runs through the engine, computes a result and writes its files."""
