"""The `--ray [ADDRESS]` flag group shared by `t2ipal tag` and `t2ipal synth` (mapped onto a RayConfig)."""

from __future__ import annotations

import argparse
from typing import Any


def add_ray_args(parser: argparse.ArgumentParser, *, what: str) -> None:
    g = parser.add_argument_group(
        "Ray cluster (pip install \"t2ipal-tagger[cluster]\"; see docs/cluster.md)",
        f"Run the job on Ray actors; the database is written by this process only. {what}.",
    )
    g.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help="run on Ray: ADDRESS 'auto' (the cluster this node belongs to), ray://HEAD:10001, or none "
                        "(RAY_ADDRESS, else a local Ray instance); put it after the folders or write --ray=ADDRESS")
    g.add_argument("--ray-actors", type=int, default=None, metavar="N",
                   help="actors over the whole cluster (default: as many as fit)")
    g.add_argument("--ray-batch-size", type=int, default=None, metavar="N",
                   help="rows per actor call (default: --batch-size)")
    g.add_argument("--ray-gpus-per-actor", type=float, default=None, metavar="G",
                   help="GPUs per actor (default 0: CPU actors; 0.5 puts two actors on a GPU)")
    g.add_argument("--ray-cpus-per-actor", type=float, default=None, metavar="C",
                   help="CPUs per actor (default 1): node CPUs / C actors fit on each node")


def ray_config_from_args(args: argparse.Namespace) -> Any:
    from engine.cluster.config import RayConfig

    return RayConfig().replace(
        address=args.ray or None,
        actors=args.ray_actors,
        batch_size=args.ray_batch_size,
        gpus_per_actor=args.ray_gpus_per_actor,
        cpus_per_actor=args.ray_cpus_per_actor,
    )
