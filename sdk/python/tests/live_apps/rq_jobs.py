"""RQ jobs: each runs in a work horse forked for it, which leaves through os._exit()."""
import work


def car() -> str:
    work.spin(0.1)
    return work.order_car()


def bike() -> str:
    work.spin(0.1)
    return work.order_bike()
