"""asyncio tasks created inside a tag_wrapper block carry its tags while the block is open."""

from __future__ import annotations

import asyncio
import sys
import unittest
from typing import Any, Dict, List, Tuple

from _support import labels_here

import hotpath
from hotpath import tags as T


async def turn() -> None:
    """Lets every other ready task run once."""
    for _ in range(3):
        await asyncio.sleep(0)


class Inheritance(unittest.TestCase):
    def tearDown(self) -> None:
        self.assertEqual(T.frame_tags, {}, "tags outlived their blocks")
        self.assertEqual(T.scopes, {}, "a frame's scope outlived its blocks and tasks")
        T.thread_tags.clear()

    def test_two_requests_children_inherit_only_their_own_parents_tags(self) -> None:
        seen: List[Tuple[str, str, Dict[str, str]]] = []

        async def work(request: str, how: str) -> str:
            for _ in range(3):
                seen.append((request, how, labels_here()))
                await turn()  # the other request's tasks run in between
            return how

        async def grandchild_spawner(request: str) -> None:
            await asyncio.create_task(work(request, "grandchild"))

        async def request(name: str) -> None:
            with hotpath.tag_wrapper({"request": name}):
                tasks = [asyncio.create_task(work(name, "create_task")),
                         asyncio.ensure_future(work(name, "ensure_future")),
                         asyncio.create_task(grandchild_spawner(name))]
                await asyncio.gather(work(name, "gather"), *tasks)
                if sys.version_info >= (3, 11):
                    async with asyncio.TaskGroup() as tg:
                        tg.create_task(work(name, "TaskGroup"))

        async def main() -> None:
            await asyncio.gather(request("a"), request("b"))

        asyncio.run(main())
        hows = {how for _, how, _ in seen}
        self.assertLessEqual({"create_task", "ensure_future", "gather", "grandchild"}, hows)
        self.assertEqual(len({r for r, _, _ in seen}), 2)
        for req, how, labels in seen:
            self.assertEqual(labels, {"request": req}, (req, how))
        # the two requests really interleaved: neither ran all its children's steps alone
        order = [r for r, _, _ in seen]
        self.assertNotEqual(order, sorted(order))

    def test_a_child_keeps_the_tags_only_while_the_block_that_created_it_is_open(self) -> None:
        seen: Dict[str, Dict[str, str]] = {}
        steps: Dict[str, asyncio.Event] = {}  # filled in main: before 3.10 an Event binds to the loop

        async def child() -> None:
            seen["created"] = labels_here()
            await steps["inner_closed"].wait()
            seen["after_inner"] = labels_here()
            await steps["outer_closed"].wait()
            seen["after_outer"] = labels_here()

        async def main() -> None:
            steps.update(inner_closed=asyncio.Event(), outer_closed=asyncio.Event())
            with hotpath.tag_wrapper({"endpoint": "/car/<id>"}):
                with hotpath.tag_wrapper({"vehicle": "car"}):
                    task = asyncio.create_task(child())
                    await turn()
                steps["inner_closed"].set()
                await turn()
            steps["outer_closed"].set()
            await task

        asyncio.run(main())
        self.assertEqual(seen["created"], {"endpoint": "/car/<id>", "vehicle": "car"})
        self.assertEqual(seen["after_inner"], {"endpoint": "/car/<id>"})
        self.assertEqual(seen["after_outer"], {})

    def test_a_childs_own_block_wins_over_what_it_inherited_and_survives_the_parent_block(self) -> None:
        seen: Dict[str, Dict[str, str]] = {}
        parent_done: List[asyncio.Event] = []

        async def child() -> None:
            with hotpath.tag_wrapper({"vehicle": "bike"}):
                seen["own_block"] = labels_here()
                await parent_done[0].wait()
                seen["parent_block_closed"] = labels_here()
            seen["own_block_closed"] = labels_here()

        async def main() -> None:
            parent_done.append(asyncio.Event())
            with hotpath.tag_wrapper({"vehicle": "car", "region": "eu"}):
                task = asyncio.create_task(child())
                await turn()
            parent_done[0].set()
            await task

        asyncio.run(main())
        self.assertEqual(seen["own_block"], {"vehicle": "bike", "region": "eu"})
        self.assertEqual(seen["parent_block_closed"], {"vehicle": "bike"})
        self.assertEqual(seen["own_block_closed"], {})

    def test_a_finished_task_leaves_the_block_that_is_still_open(self) -> None:
        heirs: List[int] = []

        async def main() -> None:
            with hotpath.tag_wrapper({"job": "x"}) as block:
                await asyncio.gather(*(turn() for _ in range(50)))
                await turn()  # done callbacks run one loop iteration after the task ends
                heirs.append(len(block._heirs or ()))

        asyncio.run(main())
        self.assertEqual(heirs, [0])

    def test_a_task_factory_set_by_the_app_is_kept_and_still_called(self) -> None:
        made: List[Any] = []
        seen: List[Dict[str, str]] = []

        def app_factory(loop: Any, coro: Any, **kwargs: Any) -> Any:
            task = asyncio.Task(coro, loop=loop, **kwargs)
            made.append(task)
            return task

        async def child() -> None:
            await turn()
            seen.append(labels_here())

        async def main() -> None:
            asyncio.get_running_loop().set_task_factory(app_factory)
            with hotpath.tag_wrapper({"job": "x"}):
                await asyncio.create_task(child())

        asyncio.run(main())
        self.assertIn("child", [t.get_coro().__name__ for t in made])
        self.assertEqual(seen, [{"job": "x"}])

    @unittest.skipIf(sys.version_info < (3, 12), "eager_task_factory is new in Python 3.12")
    def test_eager_tasks_inherit_before_and_after_their_first_suspension(self) -> None:
        seen: List[Dict[str, str]] = []

        async def child() -> None:
            seen.append(labels_here())  # runs eagerly, inside create_task
            await turn()
            seen.append(labels_here())  # runs from the loop

        async def main() -> None:
            asyncio.get_running_loop().set_task_factory(asyncio.eager_task_factory)
            with hotpath.tag_wrapper({"job": "x"}):
                await asyncio.create_task(child())

        asyncio.run(main())
        self.assertEqual(seen, [{"job": "x"}, {"job": "x"}])

    def test_thread_tags_stay_per_thread_and_tasks_without_a_block_inherit_nothing(self) -> None:
        seen: List[Dict[str, str]] = []

        async def child() -> None:
            seen.append(labels_here())

        async def main() -> None:
            hotpath.add_thread_tag("worker", "1")
            with hotpath.tag_wrapper({"job": "x"}):
                await turn()
            await asyncio.create_task(child())  # created after the block: only the thread's tag
            hotpath.remove_thread_tag("worker", "1")
            await asyncio.create_task(child())

        asyncio.run(main())
        self.assertEqual(seen, [{"worker": "1"}, {}])


if __name__ == "__main__":
    unittest.main()
