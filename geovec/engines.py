"""Where the work runs: the engine names and the Ray session that ingest, extract and the
evaluations share. A bottom room (it imports only :mod:`geovec.errors`, and Ray when a
session starts), so the ingestion and the analyses both use it and neither imports the
other for it.

Ray is an optional extra: ``pip install 'geovec[ray]'``. Without an address a local
cluster is started (and stopped at exit); with one, the run joins that cluster. Ray is
started before JAX initialises in the driver (forking a process that runs XLA threads is
unsafe).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os

from geovec.errors import GeovecError

ENGINES = ("local", "ray")
"""local: threads and one jitted model in this process; ray: a Ray cluster."""
OBJECT_STORE_BYTES = 512 * 1024**2
"""Object store of a local cluster: a few chunks of prepared images."""


def start_ray(address: str | None = None, workers: int | None = None) -> bool:
    """Join the cluster at ``address``, or start a local one with ``workers`` CPUs (default:
    this machine's); nothing when Ray is already running in this process. True when this
    call started or joined it (the caller then shuts it down: :func:`ray_session`)."""
    try:
        import ray
    except ImportError:
        raise GeovecError(
            "the ray engine needs Ray: pip install 'geovec[ray]' (or use --engine local)"
        ) from None
    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a local cluster: no tokens to print
    options = {
        "include_dashboard": False,
        "log_to_driver": False,
        "configure_logging": True,
        "logging_level": logging.WARNING,
    }
    if address:
        ray.init(address=address, **options)
    else:
        ray.init(
            num_cpus=workers or os.cpu_count() or 1,
            object_store_memory=OBJECT_STORE_BYTES,
            **options,
        )
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # geovec's own bar counts the rows
    context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    return True


@contextlib.contextmanager
def ray_session(engine: str, address: str | None = None):
    """Ray running for the ``ray`` engine while the block runs (started first, before JAX
    initialises here); shut down after when this block started it."""
    if engine != "ray":
        if address:
            raise GeovecError("--ray-address needs --engine ray")
        yield
        return
    started = start_ray(address)
    try:
        yield
    finally:
        if started:
            import ray

            ray.shutdown()


def in_ray_session(func):
    """Run ``func`` inside :func:`ray_session`, with the ``engine`` and ``ray_address``
    keyword arguments it was called with (Ray up before the function touches JAX)."""

    @functools.wraps(func)
    def run(*args, **kwargs):
        with ray_session(kwargs.get("engine", "local"), kwargs.get("ray_address")):
            return func(*args, **kwargs)

    return run
