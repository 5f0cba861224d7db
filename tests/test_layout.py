"""The package layout: one namespace, every package installed, no import circles, layers that
only import downwards (docs/ARCHITECTURE.md)."""

from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"model": "saca.model", "agents": "saca.agents", "experiments": "saca.experiments"}

# Lowest first. A module may import from its own layer and those below, never from above.
LAYERS = {
    "saca.agents": 0,
    "saca.model": 1,
    "saca.experiments.engine": 2,
    "saca.experiments.stats": 2,
    "saca.experiments.console": 3,
    "saca.experiments.plots": 3,
    "saca.experiments.analyses": 4,
    "saca.experiments.app": 5,
    "saca.experiments.cli": 5,
    "saca.experiments.reports": 6,
    "saca.experiments": 6,  # the package's own __init__ and __main__
}


def _modules() -> dict[str, Path]:
    """Every module of the three packages, by its installed dotted name."""
    out = {}
    for folder, pkg in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = path.relative_to(ROOT / folder).with_suffix("").parts
            name = ".".join((pkg, *parts))
            out[name.removesuffix(".__init__")] = path
    return out


MODULES = set(_modules())


def _layer(name: str) -> int:
    best = max((p for p in LAYERS if name == p or name.startswith(p + ".")), key=len)
    return LAYERS[best]


def _runtime_imports(path: Path, name: str) -> set[str]:
    """The saca modules ``path`` imports when it runs (not those under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.ImportFrom) and child.module:
                base = child.module
                if child.level:  # relative: resolve against the module's package
                    pkg = name.split(".")[: -child.level] if path.stem != "__init__" else name
                    base = ".".join([*pkg, child.module] if child.module else pkg)
                if base.startswith("saca."):  # `from pkg import module` imports pkg.module
                    subs = {f"{base}.{a.name}" for a in child.names} & MODULES
                    found.update(subs or {base})
            elif isinstance(child, ast.Import):
                found.update(a.name for a in child.names if a.name.startswith("saca."))
            visit(child)

    visit(tree)
    return found


def test_every_package_folder_is_installed() -> None:
    """A new subpackage must be listed in pyproject, or a fresh install lacks it."""
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(conf["packages"])
    folders = {
        ".".join((FOLDERS[f], *p.parent.relative_to(ROOT / f).parts))
        for f in FOLDERS
        for p in (ROOT / f).rglob("__init__.py")
    }
    assert folders == listed, f"pyproject packages differ: {sorted(folders ^ listed)}"


def test_no_layer_imports_one_above() -> None:
    """agents < model < engine, stats < console, plots < analyses < app, cli < reports."""
    bad = []
    for name, path in _modules().items():
        for imp in _runtime_imports(path, name):
            if _layer(imp) > _layer(name):
                bad.append(f"{name} imports {imp}")
    assert not bad, "\n".join(bad)


# Imports each module in a child forked from an interpreter that has imported only the
# third-party libraries (numpy, pandas, Mesa, ...) and no saca module: each child starts
# the package from nothing, as a fresh interpreter would, without paying the libraries'
# import time once per module. Prints {module: error or ""} as JSON.
IMPORT_EACH = """
import importlib, json, os, sys
modules, preload = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for lib in preload:
    try:
        importlib.import_module(lib)
    except Exception:
        pass
assert not [m for m in sys.modules if m == "saca" or m.startswith("saca.")]
out = {}
for mod in modules:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            importlib.import_module(mod)
            msg = ""
        except BaseException as exc:
            msg = f"{type(exc).__name__}: {exc}"
        os.write(w, msg.encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        out[mod] = f.read().decode()
    _, status = os.waitpid(pid, 0)
    if status and not out[mod]:
        out[mod] = f"the child ended with status {status}"
print(json.dumps(out))
"""


def _third_party(paths: list[Path]) -> list[str]:
    """Top-level modules other than saca that ``paths`` import (to load once, up front)."""
    found: set[str] = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
    return sorted(n for n in found if n.split(".")[0] != "saca")


def import_each(modules: list[str], preload: list[str], cwd: Path) -> dict[str, str]:
    """Import every module on its own (see IMPORT_EACH): {module: error, "" if none}.

    Args:
        modules: dotted names to import, each in a child of its own.
        preload: libraries the parent imports first.
        cwd: where to run (outside the repository: the installed package is imported).
    """
    res = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH, json.dumps(modules), json.dumps(preload)],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr.strip().splitlines()[-3:]
    return json.loads(res.stdout.strip().splitlines()[-1])


IMPORTED = [m for m in _modules() if not m.endswith("__main__") and ".app.page" not in m]


@pytest.fixture(scope="module")
def imported_alone(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every module imported on its own, once for the module's tests."""
    preload = _third_party(list(_modules().values()))
    return import_each(IMPORTED, preload, tmp_path_factory.mktemp("import_each"))


@pytest.mark.parametrize("module", IMPORTED)
def test_each_module_imports_on_its_own(module: str, imported_alone: dict[str, str]) -> None:
    """No import circle: every module imports first, with no other saca module loaded
    before it, outside the repo."""
    assert imported_alone[module] == ""


def test_import_each_catches_a_circle(tmp_path: Path) -> None:
    """The check fails where it should: a module whose import circle bites when it is
    imported first, though its partner imports fine."""
    pkg = tmp_path / "circ"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from circ.b import B\nA = 1\n")
    (pkg / "b.py").write_text("from circ.a import A\nB = 2\n")
    (pkg / "c.py").write_text("C = 3\n")
    got = import_each(["circ.a", "circ.b", "circ.c"], ["numpy"], tmp_path)
    assert got["circ.c"] == ""
    assert "ImportError" in got["circ.a"] and "ImportError" in got["circ.b"]


def test_no_top_level_model_agents_experiments(tmp_path: Path) -> None:
    """Installed under saca.*: the bare names are free for other projects."""
    names = "('model', 'agents', 'experiments')"
    code = f"import importlib.util as u; print([n for n in {names} if u.find_spec(n)])"
    res = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert res.stdout.strip() == "[]", res.stdout + res.stderr


DOCS = [
    ROOT / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
    *(ROOT / "notebooks").glob("*.ipynb"),
]


def _resolves(dotted: str) -> bool:
    """``dotted`` names a module, or an attribute of one (``saca.model.metrics.RECORDS``)."""
    parts = dotted.split(".")
    for i in range(len(parts), 1, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_docs_name_only_real_modules_and_functions() -> None:
    """A module path in the README, docs or notebooks that no longer exists misleads a reader."""
    names = set()
    for path in DOCS:
        names.update(re.findall(r"saca\.(?:model|agents|experiments)(?:\.\w+)+", path.read_text()))
    stale = sorted(n for n in names if not _resolves(n.rstrip(".")))
    assert not stale, f"update these names in README/docs/notebooks: {stale}"


def test_docs_name_only_real_files() -> None:
    """Same for source files and folders named by path (``experiments/engine/outdir.py``)."""
    paths = set()
    for path in DOCS:
        paths.update(
            re.findall(r"\b(?:model|agents|experiments)/[\w/]+(?:\.py|\.toml|/)", path.read_text())
        )
    missing = sorted(p for p in paths if "*" not in p and not (ROOT / p).exists())
    assert not missing, f"update these paths in README/docs/notebooks: {missing}"


TINY = ["--scenario", "emergency", "--steps", "3", "--set", "situation.households=300"]


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--regime", "autonomous", *TINY],
        ["compare", "--regimes", "constructive,autonomous", "--replicates", "2", *TINY],
    ],
    ids=["run", "compare"],
)
def test_commands_work_in_a_fresh_interpreter(argv: list[str], tmp_path: Path) -> None:
    """The installed `saca` command, whose first imports differ from a test process's: the
    modules it loads on first use must import in any order (Mesa, once imported, inspects
    every loaded module)."""
    saca = Path(sys.executable).with_name("saca")
    res = subprocess.run(
        [str(saca), *argv, "--workers", "1"] if argv[0] == "compare" else [str(saca), *argv],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr.strip().splitlines()[-3:]
    assert "efficacy" in res.stdout
