# The origin article's Python asyncio client, as published in the article, plus the
# two lines that run it. The test that drives it (python-client.int.test.ts) generates
# order_pb2 / order_pb2_grpc from proto/order.proto with grpc_tools and points the article's
# fixed address at the server under test through ORDERSTREAM_TARGET.
import asyncio
import os

import grpc
import order_pb2
import order_pb2_grpc

_insecure_channel = grpc.aio.insecure_channel
grpc.aio.insecure_channel = lambda target, *a, **kw: _insecure_channel(
    os.environ.get("ORDERSTREAM_TARGET", target), *a, **kw
)


# --- verbatim from the article ---
async def process_orders():
    async with grpc.aio.insecure_channel('localhost:50051') as channel:
        stub = order_pb2_grpc.OrderServiceStub(channel)
        async def generate_actions():
            for i in range(100):
                yield order_pb2.OrderAction(
                    order_id=f"ord-{i}",
                    action="process",
                    payload=b"{}",
                )
        async for result in stub.ProcessOrders(generate_actions()):
            print(f"Order {result.order_id}: {result.status}")
# --- end of the article's code ---


if __name__ == "__main__":
    asyncio.run(process_orders())
