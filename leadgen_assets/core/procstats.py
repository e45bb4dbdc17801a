"""What a leadgen process reports about itself (benchmarks and the resolver CLI)."""

from __future__ import annotations

import resource
from pathlib import Path


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB. On Linux from VmHWM, which starts afresh
    in a new program; ``ru_maxrss`` carries a forking parent's peak into its child."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
