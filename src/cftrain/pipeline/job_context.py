"""Where a workflow job runs, as one log line (issue 16).

Every `cftrain` subcommand starts its log with it, so a rule's log shows that the job ran under
Slurm (its job id) and which GPUs Slurm granted it (CUDA_VISIBLE_DEVICES), next to the device
the job then actually used.
"""

from __future__ import annotations

import os
import socket


def job_context() -> str:
    """``host=<name> slurm_job_id=<id|none> cuda_visible_devices=<list|unset>``."""
    env = os.environ
    return (
        f"host={socket.gethostname()} slurm_job_id={env.get('SLURM_JOB_ID', 'none')} "
        f"cuda_visible_devices={env.get('CUDA_VISIBLE_DEVICES', 'unset')}"
    )
