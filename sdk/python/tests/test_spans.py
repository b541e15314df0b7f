"""hotpath.span: samples taken while a local root span is open carry span_id and span_name sample labels;
through a real server, each span's profile (SelectMergeSpanProfile) holds only its own work."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import threading
import time
import unittest
import urllib.parse
import urllib.request
from typing import Any, Dict, List, Set

import _support
from _support import Recorder, decode_pprof, decode_push, labels_here, start_hotpath_server

import hotpath
from hotpath import agent
from hotpath import tags as T
from hotpath.memory import AllocationTags
from hotpath.spans import format_span_id

CPU = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"


class SpanLabels(unittest.TestCase):
    def tearDown(self) -> None:
        self.assertEqual(T.frame_tags, {}, "span labels outlived their blocks")
        self.assertEqual(T.scopes, {})

    def test_samples_inside_a_span_carry_its_id_and_name_and_none_after(self) -> None:
        with hotpath.span(span_id=0x00F067AA0BA902B7, name="GET /car") as s:
            inside = labels_here()
            with hotpath.tag_wrapper({"vehicle": "car"}):
                tagged = labels_here()
        self.assertEqual(s.span_id, "00f067aa0ba902b7")
        self.assertEqual(inside, {"span_id": "00f067aa0ba902b7", "span_name": "GET /car"})
        self.assertEqual(tagged, {"span_id": "00f067aa0ba902b7", "span_name": "GET /car", "vehicle": "car"})
        self.assertEqual(labels_here(), {})

    def test_a_given_trace_id_labels_the_samples_too(self) -> None:
        with hotpath.span(name="GET /car", trace_id=0x4BF92F3577B34DA6A3CE929D0E0E4736) as s:
            labels = labels_here()
        self.assertEqual(labels, {"span_id": s.span_id, "span_name": "GET /car", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"})
        for bad in (0, "abc", 1 << 128, "4bf92f3577b34da6a3ce929d0e0e473g"):
            with self.assertRaises(ValueError, msg=repr(bad)):
                hotpath.span(trace_id=bad)

    def test_a_span_inside_an_open_span_is_a_child_and_adds_nothing(self) -> None:
        def handler() -> Dict[str, str]:
            with hotpath.span(name="db query") as child:
                self.assertFalse(child.is_root)
                self.assertEqual(child.span_id, "1111111111111111")
                self.assertEqual(hotpath.current_span_id(), "1111111111111111")
                return labels_here()

        with hotpath.span(span_id="1111111111111111", name="GET /car") as root:
            self.assertTrue(root.is_root)
            self.assertEqual(handler(), {"span_id": "1111111111111111", "span_name": "GET /car"})
        self.assertIsNone(hotpath.current_span_id())

    def test_span_ids_are_16_lower_case_hex_digits(self) -> None:
        self.assertEqual(format_span_id(1), "0000000000000001")
        self.assertEqual(format_span_id("ABCDEF0123456789"), "abcdef0123456789")
        made = {format_span_id(None) for _ in range(100)}
        self.assertEqual(len(made), 100)
        self.assertTrue(all(re.fullmatch(r"[0-9a-f]{16}", m) for m in made))
        for bad in (0, "0" * 16, 1 << 64, -1, "abc", "zzzzzzzzzzzzzzzz", True, 1.5, b"0123456789abcdef"):
            with self.assertRaises(ValueError, msg=repr(bad)):
                hotpath.span(span_id=bad)  # type: ignore[arg-type]
        with self.assertRaises(ValueError):
            hotpath.span(name=3)  # type: ignore[arg-type]

    def test_new_ids_repeat_neither_after_random_seed_nor_in_forked_children(self) -> None:
        import random

        random.seed(7)
        first = format_span_id(None)
        random.seed(7)
        self.assertNotEqual(format_span_id(None), first)
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: its next id, then out without running the parent's cleanups
            os.write(write, format_span_id(None).encode())
            os._exit(0)
        os.waitpid(pid, 0)
        os.close(write)
        child = os.read(read, 16).decode()
        os.close(read)
        self.assertRegex(child, r"^[0-9a-f]{16}$")
        self.assertNotEqual(child, format_span_id(None))

    def test_two_asyncio_tasks_on_one_thread_each_carry_their_own_span(self) -> None:
        seen: List[tuple] = []

        async def child(request: str) -> None:
            for _ in range(3):
                seen.append((request, "child", labels_here()))
                await asyncio.sleep(0)

        async def request(name: str, span_id: str) -> None:
            async with hotpath.span(span_id=span_id, name=name):
                task = asyncio.create_task(child(name))
                for _ in range(3):
                    seen.append((name, "request", labels_here()))
                    await asyncio.sleep(0)
                await task

        async def main() -> None:
            await asyncio.gather(request("GET /car", "a" * 16), request("GET /bike", "b" * 16))

        asyncio.run(main())
        ids = {"GET /car": "a" * 16, "GET /bike": "b" * 16}
        self.assertEqual(len(seen), 12)
        for name, where, labels in seen:
            self.assertEqual(labels, {"span_id": ids[name], "span_name": name}, where)
        order = [name for name, _, _ in seen]
        self.assertNotEqual(order, sorted(order), "the two requests did not interleave")

    def test_memory_samples_leave_the_span_labels_out(self) -> None:
        trie = AllocationTags()
        with hotpath.span(name="GET /car", trace_id=1):
            with hotpath.tag_wrapper({"vehicle": "car"}):
                trie.record(sys._getframe(), threading.get_ident())
        label_sets: Set[Any] = set()
        nodes = [trie.root]
        while nodes:
            children, counts = nodes.pop()
            label_sets.update(counts)
            nodes.extend(children.values())
        self.assertIn((("vehicle", "car"),), label_sets)
        self.assertFalse(any(k in ("span_id", "span_name", "trace_id") for labels in label_sets for k, _ in labels), label_sets)


def until_the_sampler_has_read_this_thread() -> None:
    """Stays (sleeping, in the caller's frame) until two more ticks ran: on a loaded machine the sampler
    may not tick again before a thread ends, and CPU read after a thread ended is no longer its own."""
    a = agent.current()
    if a is None:
        return
    target = a.sampler.ticks + 2
    deadline = time.monotonic() + 10
    while a.sampler.ticks < target and time.monotonic() < deadline:
        time.sleep(0.005)


# Each span's own work, in functions whose names the test looks for on the stacks.
def work_of_thread_a() -> None:
    _support.burn(0.25)
    until_the_sampler_has_read_this_thread()


def work_of_thread_b() -> None:
    _support.burn(0.25)
    until_the_sampler_has_read_this_thread()


async def work_of_task_c() -> None:
    for _ in range(25):
        _support.burn(0.01)
        await asyncio.sleep(0)


async def work_of_task_d() -> None:
    for _ in range(25):
        _support.burn(0.01)
        await asyncio.sleep(0)


OWN_WORK = {"a" * 16: "work_of_thread_a", "b" * 16: "work_of_thread_b", "c" * 16: "work_of_task_c", "d" * 16: "work_of_task_d"}


def run_four_spans() -> None:
    """Two threads and two asyncio tasks (on a third thread), each in its own span, all at once."""

    def thread(span_id: str, work: Any) -> None:
        with hotpath.span(span_id=span_id, name="thread request"):
            work()

    async def task(span_id: str, work: Any) -> None:
        with hotpath.span(span_id=span_id, name="task request"):
            await work()

    async def two_tasks() -> None:
        await asyncio.gather(task("c" * 16, work_of_task_c), task("d" * 16, work_of_task_d))

    threads = [threading.Thread(target=thread, args=("a" * 16, work_of_thread_a)),
               threading.Thread(target=thread, args=("b" * 16, work_of_thread_b)),
               threading.Thread(target=asyncio.run, args=(two_tasks(),))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)


def span_name_of(span_id: str) -> str:
    return "task request" if span_id[0] in "cd" else "thread request"


class SpanProfilesEndToEnd(unittest.TestCase):
    def tearDown(self) -> None:
        hotpath.shutdown(timeout=1.0)

    def test_the_uploaded_pprof_labels_each_spans_samples_and_only_its_own_work(self) -> None:
        server = Recorder(lambda n: 200)
        self.addCleanup(server.close)
        hotpath.configure(application_name="span-test", server_address=server.url, upload_interval=3600,
                          tags={"region": "eu-north"}, auto_tags=False)
        run_four_spans()
        self.assertTrue(hotpath.shutdown(timeout=5.0))

        cpu: Dict[str, int] = {}
        for r in server.requests:
            for series in decode_push(r["body"]):
                self.assertEqual(series["labels"], [("__name__", "process_cpu"), ("region", "eu-north"),
                                                    ("service_name", "span-test")])
                for raw in series["profiles"]:
                    for s in decode_pprof(raw)["samples"]:
                        span_id = s["labels"].get("span_id")
                        if span_id is None:
                            continue
                        self.assertIn(OWN_WORK[span_id], s["stack"], s)
                        others = [w for i, w in OWN_WORK.items() if i != span_id]
                        self.assertFalse([w for w in others if w in s["stack"]], s)
                        self.assertEqual(s["labels"]["span_name"], span_name_of(span_id))
                        cpu[span_id] = cpu.get(span_id, 0) + s["values"][0]
        # Every span ran 250 ms of CPU; the sampler charges measured thread CPU to the stack it sees.
        self.assertEqual(set(cpu), set(OWN_WORK), cpu)
        for span_id in ("a" * 16, "b" * 16):
            self.assertGreater(cpu[span_id], 0.15e9, cpu)

    @unittest.skipIf(
        os.environ.get("HOTPATH_TEST_EXTRA_INTERPRETER") == "1",
        "a real server (~15 s): runs under the main test interpreter only; the pprof test above runs on every one",
    )
    def test_through_a_real_server_each_spans_profile_holds_only_its_own_work(self) -> None:
        url = start_hotpath_server(self)
        hotpath.configure(application_name="span-e2e", server_address=url, upload_interval=3600, auto_tags=False)
        started_ms = int(time.time() * 1000) - 60_000
        run_four_spans()
        self.assertTrue(hotpath.shutdown(timeout=10.0))
        until_ms = int(time.time() * 1000) + 60_000

        query = urllib.parse.urlencode({"query": '{service_name="span-e2e"}', "profileType": CPU,
                                        "from": started_ms, "until": until_ms})
        with urllib.request.urlopen(f"{url}/api/spans?{query}", timeout=30) as r:
            listed = {s["spanId"]: s for s in json.load(r)["spans"]}
        self.assertEqual(set(listed), set(OWN_WORK), listed)
        for span_id, work in OWN_WORK.items():
            self.assertEqual(listed[span_id]["spanName"], span_name_of(span_id))
            body = {"profileTypeID": CPU, "labelSelector": '{service_name="span-e2e"}', "spanSelector": [span_id],
                    "start": started_ms, "end": until_ms}
            req = urllib.request.Request(f"{url}/querier.v1.QuerierService/SelectMergeSpanProfile",
                                         data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=30) as r:
                graph = json.load(r)["flamegraph"]
            functions = {n.split(" (", 1)[0] for n in graph["names"]}
            self.assertIn(work, functions, span_id)
            self.assertFalse((set(OWN_WORK.values()) - {work}) & functions, (span_id, sorted(functions)))
            self.assertEqual(int(graph["total"]), listed[span_id]["value"])

if __name__ == "__main__":
    unittest.main()
