"""Tag scoping: nesting, threads, asyncio tasks on one loop, contextmanager wrappers."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import unittest
from typing import Any, Dict, Iterator, List

from _support import FakeClock, labels_here

import hotpath
from hotpath import tags as T
from hotpath.sampler import Sampler


class TagWrapper(unittest.TestCase):
    def tearDown(self) -> None:
        self.assertEqual(T.frame_tags, {}, "a tag_wrapper block leaked its tags")
        T.thread_tags.clear()

    def test_nested_blocks_merge_and_restore_outer_values(self) -> None:
        with hotpath.tag_wrapper({"vehicle": "car", "region": "eu"}):
            self.assertEqual(labels_here(), {"vehicle": "car", "region": "eu"})
            with hotpath.tag_wrapper({"vehicle": "bike"}):
                self.assertEqual(labels_here(), {"vehicle": "bike", "region": "eu"})
            self.assertEqual(labels_here(), {"vehicle": "car", "region": "eu"})
        self.assertEqual(labels_here(), {})

    def test_tags_apply_to_callees_and_are_removed_after_an_exception(self) -> None:
        def callee() -> Dict[str, str]:
            return labels_here()

        with self.assertRaises(KeyError):
            with hotpath.tag_wrapper({"vehicle": "car"}):
                self.assertEqual(callee(), {"vehicle": "car"})
                raise KeyError("x")
        self.assertEqual(callee(), {})

    def test_a_contextmanager_wrapper_tags_the_caller_block(self) -> None:
        @contextlib.contextmanager
        def vehicle(v: str) -> Iterator[None]:
            with hotpath.tag_wrapper({"vehicle": v}):
                yield

        with vehicle("scooter"):
            self.assertEqual(labels_here(), {"vehicle": "scooter"})
        with contextlib.ExitStack() as es:
            es.enter_context(hotpath.tag_wrapper({"vehicle": "bus"}))
            self.assertEqual(labels_here(), {"vehicle": "bus"})
        self.assertEqual(labels_here(), {})

    def test_invalid_tags_are_rejected_loudly(self) -> None:
        with self.assertRaisesRegex(ValueError, "reserved"):
            hotpath.tag_wrapper({"__name__": "x"})
        with self.assertRaisesRegex(ValueError, "dict"):
            hotpath.tag_wrapper(["vehicle"])  # type: ignore[arg-type]
        with self.assertRaisesRegex(ValueError, "may only contain"):
            hotpath.tag_wrapper({"bad key": "x"})
        w = hotpath.tag_wrapper({"a": "b"})
        with w:
            with self.assertRaisesRegex(RuntimeError, "already entered"):
                w.__enter__()

    def test_thread_tags(self) -> None:
        hotpath.add_thread_tag("span_id", "abc")
        self.assertEqual(labels_here(), {"span_id": "abc"})
        with hotpath.tag_wrapper({"span_id": "inner"}):
            self.assertEqual(labels_here(), {"span_id": "inner"})
        hotpath.remove_thread_tag("span_id", "other")  # different value: kept
        self.assertEqual(labels_here(), {"span_id": "abc"})
        hotpath.remove_thread_tag("span_id", "abc")
        self.assertEqual(labels_here(), {})

    def test_threads_carry_their_own_tags(self) -> None:
        ready = threading.Barrier(3)
        done = threading.Event()
        seen: Dict[str, int] = {}

        def worker(v: str) -> None:
            with hotpath.tag_wrapper({"vehicle": v}):
                seen[v] = threading.get_ident()
                ready.wait()
                done.wait(5)

        threads = [threading.Thread(target=worker, args=(v,)) for v in ("car", "bike")]
        for t in threads:
            t.start()
        ready.wait()
        try:
            clock = FakeClock()
            for ident in seen.values():
                clock.cpu[ident] = 0
            s = Sampler(clock=clock, cpu_clock=clock.cpu_of)
            s.tick()
            clock.advance(10, **{f"t{seen['car']}": 3, f"t{seen['bike']}": 5})
            s.tick()
            by_label = {dict(labels).get("vehicle"): ns // 1_000_000 for (raw, labels), ns in s.take().items()}
            self.assertEqual(by_label, {"car": 3, "bike": 5})
        finally:
            done.set()
            for t in threads:
                t.join()

    def test_asyncio_tasks_interleaving_on_one_thread_keep_their_own_tags(self) -> None:
        observed: List[Any] = []

        async def request(v: str) -> None:
            async with hotpath.tag_wrapper({"vehicle": v}):
                for step in range(3):
                    observed.append((v, step, labels_here()))
                    await asyncio.sleep(0)  # let the other task run in between
            observed.append((v, "after", labels_here()))

        async def plain_with(v: str) -> None:  # a plain `with` in a coroutine works the same way
            with hotpath.tag_wrapper({"vehicle": v}):
                for step in range(3):
                    observed.append((v, step, labels_here()))
                    await asyncio.sleep(0)
            observed.append((v, "after", labels_here()))

        async def main() -> None:
            await asyncio.gather(request("car"), request("bike"), plain_with("scooter"))

        asyncio.run(main())
        order = [(v, step) for v, step, _ in observed]
        self.assertEqual(order[:5], [("car", 0), ("bike", 0), ("scooter", 0), ("car", 1), ("bike", 1)], "tasks did not interleave")
        for v, step, labels in observed:
            self.assertEqual(labels, {} if step == "after" else {"vehicle": v}, (v, step))


if __name__ == "__main__":
    unittest.main()
