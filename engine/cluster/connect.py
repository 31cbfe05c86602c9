"""Import Ray on demand (a named error without the extra) and join or start a Ray instance for one job."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from engine.errors import DependencyMissing

log = logging.getLogger(__name__)

INSTALL_HINT = 'pip install "t2ipal-tagger[cluster]"'


def import_ray() -> Any:
    """The `ray` module with Ray Data, or `DependencyMissing` saying which extra to install."""
    try:
        import ray
        import ray.data  # noqa: F401  - the extra is ray[data]; plain ray lacks pyarrow and pandas
    except ImportError as exc:
        raise DependencyMissing(f"--ray needs Ray, which is not installed; install it with: {INSTALL_HINT}") from exc
    return ray


@contextmanager
def ray_session(address: str | None) -> Iterator[Any]:
    """Yield `ray` connected to `address` (None: RAY_ADDRESS or a new local instance).

    A Ray instance this process already joined is reused and left running; one started here is shut down.
    """
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    log.info("joined Ray at %s: %s", address or "a new local instance", ray.cluster_resources())
    try:
        yield ray
    finally:
        ray.shutdown()


def quiet_progress(ray: Any) -> None:
    """Ray Data's own progress bars off: the job reports through `progress=` like every other job."""
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.verbose_progress = False
