"""Deployment metadata (version, git ref, repository, environment) as static tags, read once at start.

The tag names are Pyroscope's: `service_git_ref` and `service_repository` drive its source links
(a flame graph node opens the file at that commit), `service_version` and `environment` split a
service's profiles by release and by stage. Each tag takes the first source that has it, in the
order of SOURCES (most explicit first: HOTPATH_*, then the runtime platform that deployed the
app, then the CI job that runs it, then the git checkout it runs from). docs/python-sdk.md lists
the same order. Nothing here starts a subprocess: the git checkout is read as files.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Callable, Dict, List, Mapping, Optional, Tuple
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from .config import Config

TAGS = ("service_version", "service_git_ref", "service_repository", "environment")

Env = Mapping[str, str]


def deployment_tags(environ: Optional[Env] = None, cwd: Optional[str] = None) -> Dict[str, str]:
    """Returns the deployment tags found for this process: a subset of `service_version`,
    `service_git_ref`, `service_repository` and `environment` (only the ones found).

    `environ` defaults to os.environ. The git checkout is looked for from `cwd` upwards (as git
    does); without `cwd`, from the current directory, then from the directory of the main script.
    Repository URLs lose any credentials and become https URLs (git@host:org/repo.git ->
    https://host/org/repo). Never raises for missing or unreadable metadata.
    """
    env = os.environ if environ is None else environ
    out: Dict[str, str] = {}
    for _name, source in SOURCES:
        for tag, value in source(env).items():
            if value and tag not in out:
                out[tag] = value
    if not all(t in out for t in ("service_git_ref", "service_repository")):
        dirs = [cwd] if cwd is not None else _default_dirs()
        for d in dirs:
            found = git_checkout_tags(d)
            if found:
                for tag, value in found.items():
                    out.setdefault(tag, value)
                break
    if "service_repository" in out:
        out["service_repository"] = clean_repository_url(out["service_repository"])
        if not out["service_repository"]:
            del out["service_repository"]
    return {t: out[t] for t in TAGS if out.get(t)}


def with_deployment_tags(config: "Config", environ: Optional[Env] = None, cwd: Optional[str] = None) -> "Config":
    """`config` with the deployment tags added under its own tags (the user's win); unchanged when
    config.auto_tags is off. configure() calls it once, so the tags are read once per process."""
    if not config.auto_tags:
        return config
    return replace(config, tags={**deployment_tags(environ, cwd), **config.tags})


def _default_dirs() -> List[str]:
    dirs = []
    try:
        dirs.append(os.getcwd())
    except OSError:
        pass
    main = getattr(sys.modules.get("__main__"), "__file__", None)
    if main:
        d = os.path.dirname(os.path.abspath(main))
        if d not in dirs:
            dirs.append(d)
    return dirs


# -- environment variables -----------------------------------------------------------------------


def _pick(env: Env, **tags: str) -> Dict[str, str]:
    return {tag: env.get(var, "").strip() for tag, var in tags.items()}


def _hotpath(env: Env) -> Dict[str, str]:
    return _pick(
        env,
        service_version="HOTPATH_SERVICE_VERSION",
        service_git_ref="HOTPATH_SERVICE_GIT_REF",
        service_repository="HOTPATH_SERVICE_REPOSITORY",
        environment="HOTPATH_ENVIRONMENT",
    )


def _otel(env: Env) -> Dict[str, str]:
    # OTEL_RESOURCE_ATTRIBUTES="service.version=1.2,deployment.environment.name=prod" (values are
    # percent-encoded by the spec; the ones used here rarely need it).
    attrs: Dict[str, str] = {}
    for part in env.get("OTEL_RESOURCE_ATTRIBUTES", "").split(","):
        k, sep, v = part.partition("=")
        if sep:
            attrs[k.strip()] = v.strip()
    return {
        "service_version": attrs.get("service.version", ""),
        "service_git_ref": attrs.get("vcs.ref.head.revision", ""),
        "service_repository": attrs.get("vcs.repository.url.full", ""),
        "environment": attrs.get("deployment.environment.name") or attrs.get("deployment.environment", ""),
    }


def _datadog(env: Env) -> Dict[str, str]:
    return _pick(
        env,
        service_version="DD_VERSION",
        service_git_ref="DD_GIT_COMMIT_SHA",
        service_repository="DD_GIT_REPOSITORY_URL",
        environment="DD_ENV",
    )


def _heroku(env: Env) -> Dict[str, str]:
    # Dyno metadata (heroku labs:enable runtime-dyno-metadata); SOURCE_VERSION exists at build time.
    return {
        "service_version": env.get("HEROKU_RELEASE_VERSION", ""),
        "service_git_ref": env.get("HEROKU_SLUG_COMMIT", "") or (env.get("SOURCE_VERSION", "") if env.get("DYNO") else ""),
    }


def _render(env: Env) -> Dict[str, str]:
    return _pick(env, service_git_ref="RENDER_GIT_COMMIT")


def _vercel(env: Env) -> Dict[str, str]:
    out = _pick(env, service_git_ref="VERCEL_GIT_COMMIT_SHA", environment="VERCEL_ENV")
    hosts = {"github": "github.com", "gitlab": "gitlab.com", "bitbucket": "bitbucket.org"}
    host = hosts.get(env.get("VERCEL_GIT_PROVIDER", ""))
    owner, slug = env.get("VERCEL_GIT_REPO_OWNER"), env.get("VERCEL_GIT_REPO_SLUG")
    if host and owner and slug:
        out["service_repository"] = f"https://{host}/{owner}/{slug}"
    return out


def _cloud_run(env: Env) -> Dict[str, str]:
    # Cloud Run and Knative set K_SERVICE and K_REVISION (e.g. "checkout-00042-xyz").
    return _pick(env, service_version="K_REVISION")


def _github_actions(env: Env) -> Dict[str, str]:
    if env.get("GITHUB_ACTIONS") != "true":
        return {}
    out = _pick(env, service_git_ref="GITHUB_SHA")
    if env.get("GITHUB_REPOSITORY"):
        out["service_repository"] = f"{env.get('GITHUB_SERVER_URL') or 'https://github.com'}/{env['GITHUB_REPOSITORY']}"
    if env.get("GITHUB_REF_TYPE") == "tag":
        out["service_version"] = env.get("GITHUB_REF_NAME", "")
    return out


def _gitlab(env: Env) -> Dict[str, str]:
    if env.get("GITLAB_CI") != "true":
        return {}
    return _pick(
        env,
        service_version="CI_COMMIT_TAG",
        service_git_ref="CI_COMMIT_SHA",
        service_repository="CI_PROJECT_URL",
        environment="CI_ENVIRONMENT_NAME",
    )


def _circleci(env: Env) -> Dict[str, str]:
    if env.get("CIRCLECI") != "true":
        return {}
    return _pick(env, service_version="CIRCLE_TAG", service_git_ref="CIRCLE_SHA1", service_repository="CIRCLE_REPOSITORY_URL")


def _buildkite(env: Env) -> Dict[str, str]:
    if env.get("BUILDKITE") != "true":
        return {}
    return _pick(env, service_version="BUILDKITE_TAG", service_git_ref="BUILDKITE_COMMIT", service_repository="BUILDKITE_REPO")


def _jenkins(env: Env) -> Dict[str, str]:
    if not env.get("JENKINS_URL"):
        return {}
    return _pick(env, service_git_ref="GIT_COMMIT", service_repository="GIT_URL")


# In precedence order: a tag takes the first source that has it (then the git checkout).
SOURCES: List[Tuple[str, Callable[[Env], Dict[str, str]]]] = [
    ("HOTPATH_*", _hotpath),
    ("OpenTelemetry OTEL_RESOURCE_ATTRIBUTES", _otel),
    ("Datadog DD_*", _datadog),
    ("Heroku", _heroku),
    ("Render", _render),
    ("Vercel", _vercel),
    ("Cloud Run / Knative", _cloud_run),
    ("GitHub Actions", _github_actions),
    ("GitLab CI", _gitlab),
    ("CircleCI", _circleci),
    ("Buildkite", _buildkite),
    ("Jenkins", _jenkins),
]


# -- repository URLs -----------------------------------------------------------------------------

_SCP_LIKE = re.compile(r"^(?:[^@/]+@)?([^:/]+):(?!//)(.+)$")


def clean_repository_url(url: str) -> str:
    """The browsable https URL of a clone URL, without credentials, query or `.git`.

    https://user:token@host/org/repo.git -> https://host/org/repo;
    git@host:org/repo.git and ssh://git@host:22/org/repo -> https://host/org/repo.
    Anything else that is not a URL with a host is dropped ("") rather than risk sending a secret.
    """
    url = url.strip()
    if "://" not in url:
        m = _SCP_LIKE.match(url)
        if not m:
            return ""
        scheme, host, path = "https", m.group(1), m.group(2)
    else:
        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
            port = parts.port
        except ValueError:
            return ""
        if parts.scheme in ("http", "https") and port:
            host = f"{host}:{port}"
        path = parts.path
        scheme = parts.scheme if parts.scheme in ("http", "https") else "https"
        if parts.scheme not in ("http", "https", "ssh", "git", "git+ssh", "ssh+git"):
            return ""
    if not host:
        return ""
    path = path.strip("/")
    if path.endswith(".git"):
        path = path[: -len(".git")]
    return urlunsplit((scheme, host, "/" + path if path else "", "", ""))


# -- the git checkout ----------------------------------------------------------------------------

_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


def git_checkout_tags(start: str) -> Dict[str, str]:
    """service_git_ref (the commit HEAD points at) and service_repository (origin's URL, or the
    first remote's) of the git checkout containing `start`. Worktrees and submodules (a `.git`
    file saying `gitdir: ...`) are followed; {} when there is no checkout or it cannot be read."""
    try:
        git_dir = _find_git_dir(os.path.abspath(start))
        if git_dir is None:
            return {}
        common = git_dir
        commondir = _read(os.path.join(git_dir, "commondir"))
        if commondir:
            common = os.path.normpath(os.path.join(git_dir, commondir.strip()))
        out: Dict[str, str] = {}
        sha = _resolve_head(git_dir, common)
        if sha:
            out["service_git_ref"] = sha
        url = _remote_url(os.path.join(common, "config"))
        if url:
            out["service_repository"] = url
        return out
    except (OSError, ValueError):
        return {}


def _read(path: str, limit: int = 1 << 16) -> Optional[str]:
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as f:
            return f.read(limit)
    except OSError:
        return None


def _find_git_dir(d: str) -> Optional[str]:
    while True:
        dot_git = os.path.join(d, ".git")
        if os.path.isdir(dot_git):
            return dot_git
        if os.path.isfile(dot_git):
            text = _read(dot_git) or ""
            if text.startswith("gitdir:"):
                return os.path.normpath(os.path.join(d, text[len("gitdir:") :].strip()))
            return None
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def _resolve_head(git_dir: str, common: str) -> Optional[str]:
    text = (_read(os.path.join(git_dir, "HEAD")) or "").strip()
    for _ in range(5):  # symbolic refs may point at symbolic refs; git caps the depth too
        if _SHA.match(text):
            return text
        if not text.startswith("ref:"):
            return None
        ref = text[len("ref:") :].strip()
        if ".." in ref.split("/") or not ref.startswith("refs/"):
            return None
        loose = _read(os.path.join(git_dir, ref)) or _read(os.path.join(common, ref))
        if loose is not None:
            text = loose.strip()
            continue
        return _packed_ref(common, ref)
    return None


def _packed_ref(common: str, ref: str) -> Optional[str]:
    try:
        with open(os.path.join(common, "packed-refs"), "r", encoding="utf-8", errors="replace") as f:
            for line in f:
                sha, _, name = line.strip().partition(" ")
                if name == ref and _SHA.match(sha):
                    return sha
    except OSError:
        pass
    return None


_SECTION = re.compile(r'^\[\s*remote\s+"((?:[^"\\]|\\.)*)"\s*\]')


def _remote_url(config_path: str) -> Optional[str]:
    """origin's url (else the first remote's) from a git config file: [remote "name"] url = ..."""
    text = _read(config_path, 1 << 20)
    if not text:
        return None
    urls: Dict[str, str] = {}
    remote: Optional[str] = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("["):
            m = _SECTION.match(line)
            remote = m.group(1) if m else None
            continue
        if remote is None or remote in urls:
            continue
        key, sep, value = line.partition("=")
        if sep and key.strip().lower() == "url":
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = value[1:-1]
            urls[remote] = value
    if "origin" in urls:
        return urls["origin"]
    return next(iter(urls.values()), None)
