"""Setting up and serving the app: Solara's front end unpacked from npm, then the server.

Solara's page loads its front end (the Vuetify app, requirejs, font-awesome) through its
CDN proxy, which fetches each file from a public CDN on first use and caches it under
``<prefix>/share/solara/cdn/<package>@<version>/``. Where that CDN cannot be reached the
page stays blank (DESIGN §5, "The app offline"). The npm registry has the same packages,
so :func:`ensure_assets` packs the versions Solara's page template names with
``npm pack`` and unpacks them into the cache folder; Solara then serves them from there.
Nothing is fetched when the folders are already complete. :func:`serve` does this and
then runs ``solara run experiments/app/page.py`` (what ``saca app`` calls).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

DONE = ".saca-complete"
"""Marker written into a package folder once it is completely unpacked."""

FALLBACK = (
    ("@widgetti/solara-vuetify3-app", "5.2.0"),
    ("@widgetti/solara-vuetify-app", "10.1.1"),
    ("requirejs", "2.3.6"),
    ("font-awesome", "4.5.0"),
    ("@widgetti/vue-grid-layout", "2.3.13-alpha.2"),
)
"""The packages of solara 1.64.1's page, used if its sources cannot be read."""

SOURCES = ("server/templates/solara.html.j2", "widgets/vue/gridlayout.vue")
"""Files of Solara that name the CDN packages the app needs: the page template, and the
draggable grid that SolaraViz lays its plots out in."""

_REF = re.compile(
    r"(?:\{\{\s*cdn\s*\}\}|\$\{this\.getCdn\(\)\})/((?:@[\w.-]+/)?[\w.-]+)@(\d[\w.-]*)/"
)
_PATH = re.compile(r"^/?((?:@[\w.-]+/)?[\w.-]+)@(\d[\w.-]*)/")


class AssetError(RuntimeError):
    """The assets could not be installed (no npm, registry unreachable, bad archive)."""


def cache_dir() -> Path:
    """The folder Solara's CDN proxy serves from (``SOLARA_ASSETS_PROXY_CACHE_DIR``)."""
    from solara.server import settings

    return Path(settings.assets.proxy_cache_dir)


def _vue3() -> bool:
    import ipyvue

    return str(ipyvue.__version__).startswith("3")


def required_packages() -> list[tuple[str, str]]:
    """The npm packages (name, version) that Solara's page loads through its CDN proxy.

    Read from the installed Solara's page template (both Vuetify builds are named there;
    only the one the installed ipyvue uses is kept), its grid layout widget and its
    font-awesome setting, so an upgrade of Solara picks the versions it needs.
    """
    import solara
    from solara.server import settings

    base = Path(solara.__file__).parent
    refs: list[tuple[str, str]] = []
    for rel in SOURCES:
        try:
            refs += _REF.findall((base / rel).read_text(encoding="utf-8"))
        except OSError:
            refs = []
            break
    if not refs:
        refs = list(FALLBACK)
    if settings.assets.fontawesome_enabled:
        m = _PATH.match(settings.assets.fontawesome_path)
        if m:
            refs.append((m.group(1), m.group(2)))
    skip = "@widgetti/solara-vuetify-app" if _vue3() else "@widgetti/solara-vuetify3-app"
    out: list[tuple[str, str]] = []
    for ref in refs:
        if ref[0] != skip and ref not in out:
            out.append(ref)
    return out


def missing(root: Path | None = None) -> list[tuple[str, str]]:
    """The required packages not yet completely unpacked under ``root``.

    Args:
        root: the cache folder; None for Solara's.
    """
    root = cache_dir() if root is None else root
    return [(n, v) for n, v in required_packages() if not (root / f"{n}@{v}" / DONE).exists()]


def _unpack(archive: Path, dest: Path) -> None:
    """Unpack an npm tarball (files under ``package/``) into ``dest``, atomically."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".saca-", dir=dest.parent))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(tmp, filter="data")
        top = tmp / "package"
        if not top.is_dir():
            raise AssetError(f"{archive.name} has no package/ folder")
        (top / DONE).write_text("unpacked from npm by saca\n")
        if dest.exists():
            shutil.rmtree(dest)
        top.rename(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ensure_assets(root: Path | None = None, *, quiet: bool = False) -> list[str]:
    """Install every missing front-end package of Solara's page into its CDN cache.

    Args:
        root: the cache folder; None for Solara's (``<prefix>/share/solara/cdn``).
        quiet: print nothing.

    Returns:
        The ``name@version`` of each package installed now (empty if none was missing).

    Raises:
        AssetError: npm is missing or a package could not be packed or unpacked.
    """
    root = cache_dir() if root is None else root
    todo = missing(root)
    if not todo:
        return []
    npm = shutil.which("npm")
    if npm is None:
        names = ", ".join(f"{n}@{v}" for n, v in todo)
        raise AssetError(
            f"npm not found; install Node.js/npm (Debian: apt-get install npm) so saca can "
            f"unpack the app's front end ({names}) into {root}"
        )
    done = []
    with tempfile.TemporaryDirectory(prefix="saca-npm-") as work:
        for name, version in todo:
            spec = f"{name}@{version}"
            if not quiet:
                print(f"saca app: unpacking {spec} from npm into {root}", file=sys.stderr)
            proc = subprocess.run(
                [npm, "pack", "--silent", spec],
                cwd=work,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            lines = [ln for ln in proc.stdout.splitlines() if ln.strip().endswith(".tgz")]
            if proc.returncode != 0 or not lines:
                err = " ".join((proc.stderr or proc.stdout).split())[-400:]
                raise AssetError(f"npm pack {spec} failed: {err}")
            _unpack(Path(work) / lines[-1].strip(), root / spec)
            done.append(spec)
    return done


def app_path() -> Path:
    """The Solara app file, ``experiments/app/page.py``."""
    return Path(__file__).with_name("page.py")


def server_command(host: str, port: int, open_browser: bool = False) -> list[str]:
    """The command that serves the app (``python -m solara run experiments/app/page.py``).

    Args:
        host: the address to listen on, e.g. 127.0.0.1.
        port: the port; 0 lets the system pick one.
        open_browser: ask Solara to open a browser tab.
    """
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        str(app_path()),
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--open" if open_browser else "--no-open",
    ]


def server_env() -> dict[str, str]:
    """The environment of the server: this one, without Solara's usage telemetry (which
    would try to reach the network on every page load) and without its "runs on Solara"
    badge (fixed to the window's corner, it covered the figures' axes)."""
    return {
        **os.environ,
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        "SOLARA_THEME_SHOW_BANNER": "False",
    }


def serve(host: str = "127.0.0.1", port: int = 8765, open_browser: bool = False) -> int:
    """Install the front end if needed, then serve the app until interrupted.

    On POSIX the server replaces this process (``os.execve``), so signalling ``saca app``
    (Ctrl-C, ``kill``, a test fixture's ``terminate()``) stops the server itself rather
    than leaving it running without a parent; elsewhere it runs as a child process.

    Args:
        host: the address to listen on.
        port: the port.
        open_browser: open a browser tab once the server is up.

    Returns:
        The server's exit code (only where it runs as a child).

    Raises:
        AssetError: the front end could not be installed.
    """
    ensure_assets()
    print(f"saca app: serving on http://{host}:{port} (Ctrl-C to stop)", file=sys.stderr)
    cmd, env = server_command(host, port, open_browser), server_env()
    if os.name == "posix":
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(cmd[0], cmd, env)
    return subprocess.call(cmd, env=env)
