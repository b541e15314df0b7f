"""configure() validation and HOTPATH_* environment variables."""

from __future__ import annotations

import unittest

import _support  # noqa: F401  (puts the SDK on sys.path)

import hotpath
from hotpath.config import LineNo, build_config


class Config(unittest.TestCase):
    def test_defaults(self) -> None:
        c = build_config({"application_name": "app"}, environ={})
        self.assertEqual((c.server_address, c.sample_rate, c.upload_interval, c.oncpu), ("http://localhost:4040", 100, 10.0, True))
        self.assertEqual((c.upload_protocol, c.mem_enabled, c.line_no), ("push", False, LineNo.LastInstruction))

    def test_unknown_argument_names_the_closest_match(self) -> None:
        with self.assertRaisesRegex(ValueError, r"unknown argument\(s\) 'sample_rat' \(did you mean 'sample_rate'\?\)"):
            build_config({"application_name": "a", "sample_rat": 100}, environ={})
        with self.assertRaisesRegex(ValueError, "unknown argument"):
            hotpath.configure(application_name="a", not_an_option=1)

    def test_invalid_values(self) -> None:
        cases = [
            ({"sample_rate": 0}, "sample_rate must be between 1 and 1000"),
            ({"sample_rate": "fast"}, "sample_rate must be a number"),
            ({"sample_rate": True}, "sample_rate must be a number"),
            ({"server_address": "localhost:4040"}, "server_address must be an http"),
            ({"tags": {"__name__": "x"}}, "reserved"),
            ({"tags": "region=eu"}, "tags must be a dict"),
            ({"oncpu": "maybe"}, "oncpu must be a bool"),
            ({"upload_interval": 0}, "upload_interval must be between"),
            ({"upload_protocol": "grpc"}, "upload_protocol must be 'push' or 'ingest'"),
            ({"line_no": 7}, "line_no must be a hotpath.LineNo"),
            ({"http_headers": {"X": 1}}, "http_headers must be a dict of str to str"),
            ({"application_name": "my app"}, "application_name 'my app' may only contain"),
            ({"cpu_enabled": False}, "at least one of cpu_enabled and mem_enabled"),
        ]
        for extra, message in cases:
            with self.subTest(extra=extra):
                with self.assertRaisesRegex(ValueError, message):
                    build_config({"application_name": "app", **extra}, environ={})

    def test_application_name_is_required(self) -> None:
        with self.assertRaisesRegex(ValueError, "application_name is required"):
            build_config({}, environ={})

    def test_environment_fills_gaps_and_arguments_win(self) -> None:
        env = {
            "HOTPATH_APPLICATION_NAME": "from-env",
            "HOTPATH_SERVER_ADDRESS": "http://collector:4040",
            "HOTPATH_SAMPLE_RATE": "50",
            "HOTPATH_UPLOAD_INTERVAL": "2.5",
            "HOTPATH_TAGS": "region=us-east, team=rides",
            "HOTPATH_MEM_ENABLED": "true",
            "HOTPATH_ONCPU": "0",
        }
        c = build_config({}, environ=env)
        self.assertEqual((c.application_name, c.server_address, c.sample_rate, c.upload_interval), ("from-env", "http://collector:4040", 50, 2.5))
        self.assertEqual(c.tags, {"region": "us-east", "team": "rides"})
        self.assertEqual((c.mem_enabled, c.oncpu), (True, False))
        c = build_config({"application_name": "arg", "sample_rate": 10, "tags": {"region": "eu"}}, environ=env)
        self.assertEqual((c.application_name, c.sample_rate), ("arg", 10))
        self.assertEqual(c.tags, {"region": "eu", "team": "rides"})

    def test_invalid_environment_values_name_the_variable(self) -> None:
        with self.assertRaisesRegex(ValueError, "HOTPATH_SAMPLE_RATE must be a number"):
            build_config({"application_name": "a"}, environ={"HOTPATH_SAMPLE_RATE": "lots"})
        with self.assertRaisesRegex(ValueError, "HOTPATH_TAGS: expected key=value"):
            build_config({"application_name": "a"}, environ={"HOTPATH_TAGS": "oops"})

    def test_pyroscope_compat_names(self) -> None:
        with self.assertWarns(DeprecationWarning):
            c = build_config({"app_name": "legacy", "native": False, "detect_subprocesses": True}, environ={})
        self.assertEqual(c.application_name, "legacy")

    def test_configure_twice_is_a_runtime_error(self) -> None:
        hotpath.configure(application_name="a", server_address="http://127.0.0.1:9", upload_interval=60)
        try:
            with self.assertRaisesRegex(RuntimeError, "already configured"):
                hotpath.configure(application_name="b", server_address="http://127.0.0.1:9")
        finally:
            self.assertTrue(hotpath.shutdown(timeout=0.2))
        self.assertFalse(hotpath.shutdown())


if __name__ == "__main__":
    unittest.main()
