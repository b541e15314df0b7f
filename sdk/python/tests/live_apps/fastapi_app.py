"""FastAPI under uvicorn: /car is a plain function (run in anyio's thread pool), /bike a coroutine."""
import work

work.start("fastapi")

from fastapi import FastAPI  # noqa: E402

app = FastAPI()


@app.get("/car/{id}")
def car(id: int) -> str:
    return work.order_car()


@app.get("/bike/{id}")
async def bike(id: int) -> str:
    return work.order_bike()
