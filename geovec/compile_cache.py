"""XLA's compiled programs kept on disk between processes (JAX's persistent compilation
cache), so that each ``geovec`` command does not compile the network again.

The folder is ``$GEOVEC_XLA_CACHE`` when set (``off`` turns the cache off), else
``$GEOVEC_CACHE/xla``, else the user's cache folder (``$XDG_CACHE_HOME/geovec/xla``,
``~/.cache/geovec/xla``; ``~/Library/Caches/geovec/xla`` on macOS,
``%LOCALAPPDATA%\\geovec\\xla`` on Windows). Inside it each jax version, backend, device
kind and CPU (its model and instruction-set flags) has its own subfolder, so different
jax builds or machines sharing a home folder never load each other's programs. A folder
that cannot be written is read from without adding to it, and one that cannot be made
at all leaves the cache off; either way one warning line on stderr, and every command
works as without a cache. The folder can be deleted at any time.

JAX trusts what it loads from this folder: do not point it at a folder others can write.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import sys
import tempfile
import threading
from pathlib import Path

CACHE_ENV = "GEOVEC_XLA_CACHE"
"""Environment variable: the compiled-program cache folder, or ``off``."""
BASE_ENV = "GEOVEC_CACHE"
"""Environment variable: geovec's cache folder (the programs go in its ``xla``)."""
OFF = ("off", "0", "false", "no", "none")
MIN_COMPILE_S = 0.2
"""Programs that compile faster than this (seconds) are not written to the cache."""

_lock = threading.Lock()
_folder: Path | None = None
_checked = False


def user_cache_root() -> Path:
    """geovec's folder in the user's cache folder (platform conventions, no dependency)."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "geovec"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "geovec"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "geovec"


def cache_root() -> Path | None:
    """The cache folder the environment names (None: turned off), before the key."""
    setting = os.environ.get(CACHE_ENV)
    if setting is not None:
        if setting.strip().lower() in OFF or not setting.strip():
            return None
        return Path(setting).expanduser()
    base = os.environ.get(BASE_ENV)
    return (Path(base).expanduser() if base else user_cache_root()) / "xla"


def _cpu_fingerprint() -> str:
    """The CPU's model and instruction-set flags (XLA:CPU compiles for the host's CPU)."""
    text = platform.machine() + platform.processor()
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith(("model name", "flags", "Features", "CPU part")):
                    text += line
                if line.strip() == "":
                    break  # the first processor's block describes them all
    except OSError:
        pass
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def cache_key() -> str:
    """The subfolder of this jax build, backend, device kind and CPU, e.g.
    ``jax-0.10.2-cpu-cpu-x86_64-1a2b3c4d5e``."""
    import jax

    device = jax.devices()[0]
    kind = re.sub(r"[^A-Za-z0-9.]+", "_", device.device_kind).strip("_") or "device"
    return (
        f"jax-{jax.__version__}-{jax.default_backend()}-{kind}-{platform.machine() or 'cpu'}-"
        f"{_cpu_fingerprint()}"
    )


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-"):
            pass
        return True
    except OSError:
        return False


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def enable() -> Path | None:
    """Turn on the persistent compilation cache for this process (once; later calls
    return the same answer). Returns its folder, or None where it is off or unusable."""
    global _folder, _checked
    with _lock:
        if _checked:
            return _folder
        _checked = True
        root = cache_root()
        if root is None:
            return None
        import jax

        folder = root / cache_key()
        if _writable(folder):
            jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_S)
        elif folder.is_dir() and os.access(folder, os.R_OK | os.X_OK):
            # read what is there, write nothing (no warning per program from jax)
            jax.config.update("jax_persistent_cache_min_compile_time_secs", float("inf"))
            _warn(f"{folder} cannot be written: compiled programs are read from it, not saved")
        else:
            _warn(f"compiled programs are not cached: {folder} cannot be made")
            return None
        jax.config.update("jax_compilation_cache_dir", str(folder))
        _folder = folder
        return folder


def reset() -> None:
    """Forget :func:`enable`'s answer and turn the cache off (for tests)."""
    global _folder, _checked
    with _lock:
        import jax
        from jax._src import compilation_cache

        jax.config.update("jax_compilation_cache_dir", None)
        compilation_cache.reset_cache()
        _folder, _checked = None, False
