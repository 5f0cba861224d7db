"""Imported by the workers' fork server before it forks any worker: the model's compiled
parts are compiled (or loaded from numba's cache) once, there, so that no worker compiles
them again (see :func:`saca.model.model.compile_kernels`)."""

from __future__ import annotations

from saca.model.model import compile_kernels

compile_kernels()
