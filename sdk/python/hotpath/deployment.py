"""Deployment metadata (version, git ref, repository, environment) as static tags, read once at start."""

from __future__ import annotations

import os
from typing import Dict, Mapping, Optional


def deployment_tags(environ: Optional[Mapping[str, str]] = None, cwd: Optional[str] = None) -> Dict[str, str]:
    """Returns the deployment tags found for this process: a subset of `service_version`,
    `service_git_ref`, `service_repository` and `environment` (only the ones found).

    `environ` defaults to os.environ and `cwd` to the current directory (where the git checkout is
    looked for). Never raises for missing or unreadable metadata; never starts a subprocess.
    """
    env = os.environ if environ is None else environ
    out: Dict[str, str] = {}
    for tag, var in (
        ("service_version", "HOTPATH_SERVICE_VERSION"),
        ("service_git_ref", "HOTPATH_SERVICE_GIT_REF"),
        ("service_repository", "HOTPATH_SERVICE_REPOSITORY"),
        ("environment", "HOTPATH_ENVIRONMENT"),
    ):
        if env.get(var):
            out[tag] = env[var]
    return out
