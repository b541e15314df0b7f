"""hotpath.otel.HotpathSpanProcessor against a fake of the opentelemetry.sdk.trace objects it touches.

The OpenTelemetry SDK is not installed where these tests run, so fake_opentelemetry.py stands in for
it, loaded as the module `opentelemetry.sdk.trace` (the processor finds the application's frame by
skipping frames of that name).
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import types
import unittest
from unittest import mock
from typing import Any, Dict, List

import fake_opentelemetry
from _support import labels_here

import hotpath
from hotpath import tags as T


def install_fake_sdk() -> types.ModuleType:
    mods: Dict[str, types.ModuleType] = {}
    for name in ("opentelemetry", "opentelemetry.sdk", "opentelemetry.sdk.trace"):
        mods[name] = types.ModuleType(name)
    with open(fake_opentelemetry.__file__) as fh:
        source = fh.read()
    exec(compile(source, fake_opentelemetry.__file__, "exec"), mods["opentelemetry.sdk.trace"].__dict__)
    mods["opentelemetry"].sdk = mods["opentelemetry.sdk"]  # type: ignore[attr-defined]
    mods["opentelemetry.sdk"].trace = mods["opentelemetry.sdk.trace"]  # type: ignore[attr-defined]
    sys.modules.update(mods)
    return mods["opentelemetry.sdk.trace"]


def remove_fake_sdk() -> None:
    for name in ("opentelemetry.sdk.trace", "opentelemetry.sdk", "opentelemetry"):
        sys.modules.pop(name, None)


def labels_of(span: Any) -> Dict[str, str]:
    """The sample labels of a local root span's samples."""
    ctx = span.context
    return {"span_id": format(ctx.span_id, "016x"), "span_name": span.name, "trace_id": format(ctx.trace_id, "032x")}


class WithoutTheSdk(unittest.TestCase):
    def test_importable_without_opentelemetry(self) -> None:
        sys.modules.pop("hotpath.otel", None)
        with mock.patch.dict(sys.modules, {"opentelemetry.sdk.trace": None}):  # None: ImportError
            otel = importlib.import_module("hotpath.otel")
        sys.modules.pop("hotpath.otel", None)
        self.assertEqual(otel.HotpathSpanProcessor.__bases__, (object,))
        self.assertIs(otel.PyroscopeSpanProcessor, otel.HotpathSpanProcessor)


class SpanProcessor(unittest.TestCase):
    def setUp(self) -> None:
        sdk = install_fake_sdk()
        sys.modules.pop("hotpath.otel", None)
        self.otel = importlib.import_module("hotpath.otel")
        self.processor = self.otel.HotpathSpanProcessor()
        provider = sdk.TracerProvider()
        provider.add_span_processor(self.processor)
        self.tracer = provider.get_tracer("test")
        self.sdk = sdk

    def tearDown(self) -> None:
        remove_fake_sdk()
        sys.modules.pop("hotpath.otel", None)
        self.assertEqual(T.frame_tags, {}, "span labels outlived their spans")
        self.assertEqual(T.scopes, {})

    def test_subclasses_the_sdks_span_processor_when_the_application_has_it(self) -> None:
        self.assertIsInstance(self.processor, self.sdk.SpanProcessor)

    def test_a_root_span_links_to_its_profile_and_labels_its_samples_until_it_ends(self) -> None:
        with self.tracer.start_as_current_span("GET /car") as span:
            inside = labels_here()
        hex_id = format(span.context.span_id, "016x")
        self.assertEqual(span.attributes, {"pyroscope.profile.id": hex_id})
        self.assertEqual(inside, {"span_id": hex_id, "span_name": "GET /car", "trace_id": format(span.context.trace_id, "032x")})
        self.assertEqual(labels_here(), {})

    def test_child_spans_add_nothing(self) -> None:
        def find_nearest_vehicle() -> Dict[str, str]:
            with self.tracer.start_as_current_span("find_nearest_vehicle") as child:
                self.assertEqual(child.attributes, {})
                return labels_here()

        with self.tracer.start_as_current_span("GET /car") as root:
            labels = find_nearest_vehicle()
        self.assertEqual(labels, labels_of(root))

    def test_a_span_whose_parent_is_in_another_process_is_a_local_root(self) -> None:
        remote = self.sdk.SpanContext(0x1234, is_remote=True, trace_id=0x4BF92F3577B34DA6A3CE929D0E0E4736)
        with self.tracer.start_as_current_span("GET /car", parent=remote) as span:
            labels = labels_here()
        self.assertEqual(labels, labels_of(span))
        self.assertEqual(labels["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736")  # the caller's trace
        self.assertIn("pyroscope.profile.id", span.attributes)

    def test_a_decorated_function_is_labelled(self) -> None:
        @self.tracer.start_as_current_span("job")
        def job() -> Dict[str, str]:
            return labels_here()

        self.assertEqual(job()["span_name"], "job")

    def test_a_span_started_and_ended_by_hand_labels_the_frame_that_started_it(self) -> None:
        span = self.tracer.start_span("manual")
        labels = labels_here()
        span.end()
        self.assertEqual(labels, labels_of(span))
        self.assertEqual(labels_here(), {})

    def test_two_asyncio_tasks_each_carry_their_own_root_span(self) -> None:
        seen: List[Any] = []

        async def lookup(name: str) -> None:  # a task created under the request: inherits its span
            with self.tracer.start_as_current_span("lookup"):
                for _ in range(3):
                    seen.append((name, labels_here()))
                    await asyncio.sleep(0)

        async def request(name: str) -> str:
            with self.tracer.start_as_current_span(name) as span:
                task = asyncio.create_task(lookup(name))
                for _ in range(3):
                    seen.append((name, labels_here()))
                    await asyncio.sleep(0)
                await task
            return span

        async def main() -> List[Any]:
            return await asyncio.gather(request("GET /car"), request("GET /bike"))

        spans = dict(zip(("GET /car", "GET /bike"), asyncio.run(main())))
        self.assertEqual(len(seen), 12)
        for name, labels in seen:
            self.assertEqual(labels, labels_of(spans[name]))
        self.assertNotEqual([n for n, _ in seen], sorted(n for n, _ in seen), "the requests did not interleave")

    def test_a_root_span_inside_an_open_hotpath_span_links_to_the_outer_id(self) -> None:
        with hotpath.span(span_id="ab" * 8, name="outer"):
            with self.tracer.start_as_current_span("GET /car") as span:
                labels = labels_here()
        self.assertEqual(span.attributes, {"pyroscope.profile.id": "ab" * 8})
        self.assertEqual(labels, {"span_id": "ab" * 8, "span_name": "outer"})

    def test_shutdown_ends_the_labels_of_spans_never_ended(self) -> None:
        span = self.tracer.start_span("never ended")
        self.assertEqual(labels_here()["span_name"], "never ended")
        self.processor.shutdown()
        self.assertEqual(labels_here(), {})
        span.end()  # after shutdown: nothing left to end, nothing raised


if __name__ == "__main__":
    unittest.main()
