"""Figures: one style table, figures of runs and sweeps, and the app's live figures."""
