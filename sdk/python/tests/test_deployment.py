"""Deployment tags: HOTPATH_* and platform/CI variables in precedence order, git checkouts read as files."""

from __future__ import annotations

import os
import tempfile
import unittest
from typing import Dict, Optional

import _support  # noqa: F401  (puts the SDK on sys.path)

from hotpath.config import build_config
from hotpath.deployment import clean_repository_url, deployment_tags, with_deployment_tags

SHA_MAIN = "1111111111111111111111111111111111111111"
SHA_PACKED = "2222222222222222222222222222222222222222"
SHA_WT = "3333333333333333333333333333333333333333"


def write(root: str, rel: str, text: str) -> None:
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def checkout(root: str, head: str = "ref: refs/heads/main\n", config: Optional[str] = None) -> str:
    """A .git directory with a loose ref for main, a packed ref for release, and `config`."""
    write(root, ".git/HEAD", head)
    write(root, ".git/refs/heads/main", SHA_MAIN + "\n")
    write(root, ".git/packed-refs", f"# pack-refs with: peeled fully-peeled sorted\n{SHA_PACKED} refs/heads/release\n")
    write(
        root,
        ".git/config",
        config
        if config is not None
        else '[core]\n\tbare = false\n[remote "origin"]\n\turl = https://ci-bot:ghp_s3cret@github.com/acme/rides.git\n'
        '\tfetch = +refs/heads/*:refs/remotes/origin/*\n',
    )
    return root


class GitCheckout(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.root = self.tmp.name

    def tearDown(self) -> None:
        self.tmp.cleanup()

    def tags(self, sub: str = "", env: Optional[Dict[str, str]] = None) -> Dict[str, str]:
        return deployment_tags(env or {}, os.path.join(self.root, sub))

    def test_branch_head_gives_its_commit_and_origin_without_credentials(self) -> None:
        checkout(self.root)
        os.makedirs(os.path.join(self.root, "app", "pkg"))
        self.assertEqual(
            self.tags("app/pkg"),  # found from a subdirectory, as git does
            {"service_git_ref": SHA_MAIN, "service_repository": "https://github.com/acme/rides"},
        )

    def test_branch_only_in_packed_refs(self) -> None:
        checkout(self.root, head="ref: refs/heads/release\n")
        self.assertEqual(self.tags()["service_git_ref"], SHA_PACKED)

    def test_detached_head(self) -> None:
        checkout(self.root, head=SHA_WT + "\n")
        self.assertEqual(self.tags()["service_git_ref"], SHA_WT)

    def test_worktree_reads_its_own_head_and_the_main_repository_refs_and_config(self) -> None:
        main = checkout(os.path.join(self.root, "main"))
        wt = os.path.join(self.root, "wt")
        write(wt, ".git", f"gitdir: {main}/.git/worktrees/wt\n")
        write(main, ".git/worktrees/wt/HEAD", "ref: refs/heads/release\n")
        write(main, ".git/worktrees/wt/commondir", "../..\n")
        self.assertEqual(
            self.tags("wt"), {"service_git_ref": SHA_PACKED, "service_repository": "https://github.com/acme/rides"}
        )

    def test_ssh_remote_becomes_https_and_first_remote_serves_without_origin(self) -> None:
        checkout(self.root, config='[remote "upstream"]\n\turl = git@gitlab.com:acme/rides.git\n')
        self.assertEqual(self.tags()["service_repository"], "https://gitlab.com/acme/rides")

    def test_no_checkout_or_a_broken_one_gives_nothing(self) -> None:
        self.assertEqual(self.tags(), {})
        write(self.root, ".git/HEAD", "ref: refs/heads/../../../etc/passwd\n")
        self.assertEqual(self.tags(), {})

    def test_variables_win_over_the_checkout(self) -> None:
        checkout(self.root)
        env = {"GITHUB_ACTIONS": "true", "GITHUB_SHA": SHA_WT, "GITHUB_REPOSITORY": "acme/fork",
               "GITHUB_SERVER_URL": "https://github.com"}
        self.assertEqual(self.tags(env=env), {"service_git_ref": SHA_WT, "service_repository": "https://github.com/acme/fork"})


class Variables(unittest.TestCase):
    def tags(self, **env: str) -> Dict[str, str]:
        with tempfile.TemporaryDirectory() as empty:  # no git checkout
            return deployment_tags(env, empty)

    def test_hotpath_variables(self) -> None:
        self.assertEqual(
            self.tags(HOTPATH_SERVICE_VERSION="1.4.2", HOTPATH_SERVICE_GIT_REF="abc123",
                      HOTPATH_SERVICE_REPOSITORY="https://github.com/acme/rides", HOTPATH_ENVIRONMENT="staging"),
            {"service_version": "1.4.2", "service_git_ref": "abc123",
             "service_repository": "https://github.com/acme/rides", "environment": "staging"},
        )

    def test_each_platform(self) -> None:
        cases = [
            ({"OTEL_RESOURCE_ATTRIBUTES": "service.name=x,service.version=2.0,deployment.environment.name=prod"},
             {"service_version": "2.0", "environment": "prod"}),
            ({"DD_VERSION": "7", "DD_ENV": "qa", "DD_GIT_COMMIT_SHA": "d0d0"},
             {"service_version": "7", "environment": "qa", "service_git_ref": "d0d0"}),
            ({"DYNO": "web.1", "HEROKU_RELEASE_VERSION": "v42", "HEROKU_SLUG_COMMIT": "h3r0"},
             {"service_version": "v42", "service_git_ref": "h3r0"}),
            ({"RENDER": "true", "RENDER_GIT_COMMIT": "r3nd"}, {"service_git_ref": "r3nd"}),
            ({"VERCEL_ENV": "preview", "VERCEL_GIT_COMMIT_SHA": "v3rc", "VERCEL_GIT_PROVIDER": "github",
              "VERCEL_GIT_REPO_OWNER": "acme", "VERCEL_GIT_REPO_SLUG": "rides"},
             {"environment": "preview", "service_git_ref": "v3rc", "service_repository": "https://github.com/acme/rides"}),
            ({"K_SERVICE": "rides", "K_REVISION": "rides-00042-xyz"}, {"service_version": "rides-00042-xyz"}),
            ({"GITHUB_ACTIONS": "true", "GITHUB_SHA": "g1", "GITHUB_REPOSITORY": "acme/rides",
              "GITHUB_SERVER_URL": "https://github.example.com", "GITHUB_REF_TYPE": "tag", "GITHUB_REF_NAME": "v1.2"},
             {"service_git_ref": "g1", "service_repository": "https://github.example.com/acme/rides",
              "service_version": "v1.2"}),
            ({"GITLAB_CI": "true", "CI_COMMIT_SHA": "gl", "CI_PROJECT_URL": "https://gitlab.com/acme/rides",
              "CI_ENVIRONMENT_NAME": "review"},
             {"service_git_ref": "gl", "service_repository": "https://gitlab.com/acme/rides", "environment": "review"}),
            ({"CIRCLECI": "true", "CIRCLE_SHA1": "c1", "CIRCLE_REPOSITORY_URL": "git@github.com:acme/rides.git"},
             {"service_git_ref": "c1", "service_repository": "https://github.com/acme/rides"}),
            ({"BUILDKITE": "true", "BUILDKITE_COMMIT": "b1", "BUILDKITE_REPO": "git@github.com:acme/rides.git",
              "BUILDKITE_TAG": "v3"},
             {"service_git_ref": "b1", "service_repository": "https://github.com/acme/rides", "service_version": "v3"}),
            ({"JENKINS_URL": "http://ci", "GIT_COMMIT": "j1", "GIT_URL": "https://jenkins:t0k@git.acme.io/rides.git"},
             {"service_git_ref": "j1", "service_repository": "https://git.acme.io/rides"}),
            # CI-looking variables without their platform's marker are not trusted
            ({"GIT_COMMIT": "j1", "CI_COMMIT_SHA": "gl", "CIRCLE_SHA1": "c1"}, {}),
        ]
        for env, want in cases:
            with self.subTest(env=sorted(env)):
                self.assertEqual(self.tags(**env), want)

    def test_precedence_hotpath_then_platform_then_ci_per_tag(self) -> None:
        got = self.tags(
            HOTPATH_ENVIRONMENT="production",
            VERCEL_ENV="preview", VERCEL_GIT_COMMIT_SHA="vercel",
            GITHUB_ACTIONS="true", GITHUB_SHA="github", GITHUB_REPOSITORY="acme/rides",
        )
        self.assertEqual(
            got,
            {"environment": "production", "service_git_ref": "vercel", "service_repository": "https://github.com/acme/rides"},
        )

    def test_credentials_never_leave_in_any_url_form(self) -> None:
        for url in ("https://user:tok3n@github.com/a/b", "https://tok3n@github.com/a/b.git",
                    "ssh://git:tok3n@github.com:22/a/b", "https://github.com/a/b?private_token=tok3n#x"):
            with self.subTest(url=url):
                self.assertEqual(clean_repository_url(url), "https://github.com/a/b")
        self.assertEqual(clean_repository_url("/srv/git/rides.git"), "")  # a local path is not a link
        self.assertEqual(self.tags(HOTPATH_SERVICE_REPOSITORY="https://u:tok3n@h.io/a"), {"service_repository": "https://h.io/a"})


class InConfigure(unittest.TestCase):
    """configure() adds the deployment tags under the user's tags; auto_tags=False leaves them out."""

    def test_explicit_tags_win_and_the_switch_turns_them_off(self) -> None:
        env = {"HOTPATH_ENVIRONMENT": "staging", "HOTPATH_SERVICE_VERSION": "9", "HOTPATH_TAGS": "environment=prod-eu"}
        with tempfile.TemporaryDirectory() as empty:

            def configure(args: Dict[str, object], environ: Dict[str, str]) -> Dict[str, str]:
                return with_deployment_tags(build_config(args, environ), environ, empty).tags

            on = configure({"application_name": "a", "tags": {"service_version": "10"}}, env)
            off = configure({"application_name": "a"}, {**env, "HOTPATH_AUTO_TAGS": "false"})
            off_arg = configure({"application_name": "a", "auto_tags": False}, env)
        self.assertEqual(on, {"environment": "prod-eu", "service_version": "10"})
        self.assertEqual(off, {"environment": "prod-eu"})
        self.assertEqual(off_arg, {"environment": "prod-eu"})


if __name__ == "__main__":
    unittest.main()
