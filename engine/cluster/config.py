"""`RayConfig`: where the Ray cluster is and how many actors, rows per batch and GPUs each job uses (no Ray import)."""

from __future__ import annotations

from dataclasses import dataclass

from engine.config import ConfigBase, require_int, require_range
from engine.errors import ConfigError


@dataclass(frozen=True)
class RayConfig(ConfigBase):
    """How a job runs on Ray; the job's own settings (TagConfig, SynthesisConfig) stay where they are."""

    address: str | None = None  # None: RAY_ADDRESS or a new local instance; "auto": the running cluster; ray://...
    actors: int = 0  # actor pool size over the whole cluster; 0 = autoscale from 1 to as many as fit
    batch_size: int = 0  # rows per actor call; 0 = the job's own batch size (TagConfig / SynthesisConfig)
    gpus_per_actor: float = 0.0  # 0: CPU actors; 1: one GPU per actor (0.5: two actors share a GPU)
    cpus_per_actor: float = 1.0  # decode threads and onnxruntime threads follow it; sets actors per node
    write_every: int = 256  # rows the driver writes per database transaction

    def __post_init__(self) -> None:
        require_int("actors", self.actors, minimum=0)
        require_int("batch_size", self.batch_size, minimum=0)
        require_range("gpus_per_actor", self.gpus_per_actor, 0.0, 64.0)
        require_range("cpus_per_actor", self.cpus_per_actor, 0.0, 1024.0)
        require_int("write_every", self.write_every, minimum=1)
        if self.cpus_per_actor == 0 and self.gpus_per_actor == 0:
            raise ConfigError("cpus_per_actor", "an actor needs some CPU or some GPU; give cpus_per_actor > 0")

    def rows_per_call(self, job_batch_size: int) -> int:
        return self.batch_size or job_batch_size

    @property
    def threads_per_actor(self) -> int:
        return max(1, int(self.cpus_per_actor))
