#!/usr/bin/env python3
"""A small orderstream WebSocket client, written from docs/protocol.md alone.

It connects (token in a `connect` frame, subprotocol orderstream.v1), subscribes to channels,
resuming from the offsets it stored in a JSON file, prints every event once, and reconnects with
backoff when the edge closes with a "reconnect" code. asyncio + websockets (Debian:
python3-websockets).

    python3 orderstream_client.py --url ws://127.0.0.1:9001/ws --token "$JWT" \\
        --offsets offsets.json orders.user.alice

Output: one line per event, `EVENT <channel> <offset> <type> <order id> <status>`, plus
`CONNECTED <user>` and `SUBSCRIBED recovered=<true|false>`. Exit codes: 0 after --count events
(or Ctrl-C), 2 bad arguments, 3 the token was refused (close 4001), 4 another don't-reconnect close.
"""

import argparse
import asyncio
import json
import os
import random
import re
import sys

import websockets

SUBPROTOCOL = "orderstream.v1"
# Close codes after which reconnecting unchanged fails again (docs/protocol.md, "Close codes").
DONT_RECONNECT = {1000, 4001, 4008, 4009, 4400}
# The <epoch>:<seq> head of an offset (docs/protocol.md, "Offsets, resume and ordering").
OFFSET_HEAD = re.compile(r"^([A-Za-z0-9]{1,32}):(\d{1,15})")


class Stop(Exception):
    """Ends the client with an exit code."""

    def __init__(self, code, message=""):
        super().__init__(message)
        self.code = code


def offset_head(offset):
    """(epoch, seq) of an offset's head, or None (e.g. for ":0")."""
    m = OFFSET_HEAD.match(offset or "")
    return (m.group(1), int(m.group(2))) if m else None


def is_new(last, offset):
    """The resume rule: an event is new if its epoch differs from the last one's or its seq is greater."""
    prev, nxt = offset_head(last), offset_head(offset)
    if prev is None or nxt is None:
        return True
    return prev[0] != nxt[0] or nxt[1] > prev[1]


class Client:
    def __init__(self, args):
        self.args = args
        self.offsets = self.load_offsets()
        self.printed = 0
        self.next_id = 0

    def load_offsets(self):
        if self.args.offsets and os.path.exists(self.args.offsets):
            with open(self.args.offsets, encoding="utf-8") as f:
                return json.load(f)
        return {}

    def save_offsets(self):
        if self.args.offsets:
            tmp = self.args.offsets + ".tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(self.offsets, f)
            os.replace(tmp, self.args.offsets)

    def request(self, frame):
        self.next_id += 1
        return {**frame, "id": self.next_id}

    async def session(self):
        """One connection: connect, subscribe with since, print events; returns the close code."""
        async with websockets.connect(self.args.url, subprotocols=[SUBPROTOCOL], max_size=2**22) as ws:
            if self.args.token:
                await ws.send(json.dumps(self.request({"type": "connect", "token": self.args.token})))
                reply = json.loads(await ws.recv())
                if reply.get("type") != "connected":
                    raise Stop(4, f"expected connected, got {reply}")
                print(f"CONNECTED {reply['user']}", flush=True)
            since = {ch: self.offsets[ch] for ch in self.args.channels if ch in self.offsets}
            subscribe = {"type": "subscribe", "channels": self.args.channels}
            if since:
                subscribe["since"] = since
            await ws.send(json.dumps(self.request(subscribe)))
            async for text in ws:
                self.handle(json.loads(text))
            return ws.close_code  # the loop also ends quietly on 1000 and 1001 (a drain)

    def handle(self, frame):
        kind = frame.get("type")
        if kind in ("order.created", "order.status"):
            channel, offset = frame["channel"], frame["offset"]
            if not is_new(self.offsets.get(channel), offset):
                return  # a duplicate around a reconnect
            self.offsets[channel] = offset
            self.save_offsets()
            data = frame["data"]
            print(f"EVENT {channel} {offset} {kind} {data['id']} {data['status']}", flush=True)
            self.printed += 1
            if self.args.count and self.printed >= self.args.count:
                raise Stop(0)
        elif kind == "subscribed":
            for channel, offset in frame.get("offsets", {}).items():
                self.offsets.setdefault(channel, offset)
            self.save_offsets()
            print(f"SUBSCRIBED recovered={'true' if frame['recovered'] else 'false'}", flush=True)
        elif kind == "error":
            err = frame["error"]
            print(f"ERROR {err['code']} {err['message']}", file=sys.stderr, flush=True)
            if err["code"] in ("forbidden", "bad_channel", "bad_request", "too_many_channels"):
                raise Stop(4, f"subscription refused: {err['code']}")

    async def run(self):
        attempt = 0
        while True:
            try:
                code = await self.session() or 1006
            except websockets.exceptions.ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else 1006
            except (OSError, websockets.exceptions.InvalidHandshake) as err:
                print(f"CONNECT FAILED {err}", file=sys.stderr, flush=True)
                code = 1006
            if code == 4001:
                raise Stop(3, "the edge refused the token (4001 unauthorized)")
            if code in DONT_RECONNECT:
                raise Stop(4 if code != 1000 else 0, f"closed with {code}")
            # Full-jitter exponential backoff: a random delay in [0, min(cap, base * 2^n)].
            delay = random.uniform(0, min(20.0, 0.5 * 2**attempt))
            attempt += 1
            print(f"RECONNECT after close {code} in {delay:.2f} s", file=sys.stderr, flush=True)
            await asyncio.sleep(delay)


def main(argv):
    parser = argparse.ArgumentParser(description="Print orderstream events, resuming from stored offsets.")
    parser.add_argument("--url", required=True, help="edge WebSocket URL, e.g. ws://127.0.0.1:9001/ws")
    parser.add_argument("--token", default=os.environ.get("ORDERSTREAM_TOKEN"), help="JWT sent in the connect frame (or ORDERSTREAM_TOKEN)")
    parser.add_argument("--offsets", help="JSON file of channel -> last offset, read at start and written after each event")
    parser.add_argument("--count", type=int, default=0, help="exit 0 after this many events (0: run until Ctrl-C)")
    parser.add_argument("channels", nargs="+", help="channels: orders.created, orders.status, orders.user.<id>")
    args = parser.parse_args(argv)
    try:
        asyncio.run(Client(args).run())
    except Stop as stop:
        if str(stop):
            print(str(stop), file=sys.stderr, flush=True)
        return stop.code
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
