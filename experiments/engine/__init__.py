"""The run engine: sweep specs, plans, seeds, backends, the results store and folders."""
