"""How many photos an index run reads at once: ``[index] workers`` ("auto", or a number) and ``--workers``.

"auto" is the cores this process may use: its CPU affinity (what ``taskset`` or a scheduler gave it, not
the machine's count), capped by a CPU quota of its cgroup (a container's ``--cpus``, a systemd unit's
CPUQuota), rounded up.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def usable_cores(cgroup_root: Path = CGROUP_ROOT, own_cgroup: Path = Path("/proc/self/cgroup")) -> int:
    """The cores this process may use (at least 1)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    quota = cgroup_cpu_quota(cgroup_root, own_cgroup)
    return max(1, min(cores, math.ceil(quota)) if quota is not None else cores)


def cgroup_cpu_quota(cgroup_root: Path = CGROUP_ROOT, own_cgroup: Path = Path("/proc/self/cgroup")) -> float | None:
    """The CPU quota of this process's cgroup and those above it, in cores (the smallest found), or None
    when none is set or none can be read. cgroup v2: ``cpu.max`` ("max 100000" or "200000 100000");
    v1: ``cpu.cfs_quota_us`` (-1: none) over ``cpu.cfs_period_us``."""
    quotas = []
    for folder in _own_cgroup_folders(cgroup_root, own_cgroup):
        try:
            quota, _, period = (folder / "cpu.max").read_text().strip().partition(" ")
            if quota != "max":
                quotas.append(int(quota) / int(period or 100_000))
            continue
        except (OSError, ValueError):
            pass
        try:
            quota_us = int((folder / "cpu.cfs_quota_us").read_text())
            period_us = int((folder / "cpu.cfs_period_us").read_text())
        except (OSError, ValueError):
            continue
        if quota_us > 0 and period_us > 0:
            quotas.append(quota_us / period_us)
    return min(quotas) if quotas else None


def _own_cgroup_folders(cgroup_root: Path, own_cgroup: Path) -> list[Path]:
    """The folders of this process's cgroup, from its own up to the root (v2's one hierarchy, or v1's cpu
    controller); in a container, whose root is its own cgroup, the root alone."""
    paths = []
    try:
        for line in own_cgroup.read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if controllers == "":
                paths.append(cgroup_root / path.lstrip("/"))
            elif "cpu" in controllers.split(","):  # v1: the cpu controller's mount is named by its controllers
                paths.append(cgroup_root / controllers / path.lstrip("/"))
    except (OSError, ValueError):
        pass
    folders = []
    for path in paths or [cgroup_root]:
        while True:
            folders.append(path)
            if path == cgroup_root or cgroup_root not in path.parents:
                break
            path = path.parent
    return list(dict.fromkeys(folders))

