"""Experiments: the `saca` command line, presets, sweeps, analysis and plots."""
