#!/usr/bin/env python3
"""Minimal Hearth protocol v1 client, written from docs/protocol.md alone.

It is the second-language client that checks the protocol document is
enough to interoperate. Requirements: Python 3.9+, websockets 10.4 (asyncio
API) and msgpack 1.0 (Debian: python3-websockets python3-msgpack).

Talk mode (hello, then one talk per --say; one JSON line per reply):

    python3 hearth_client.py --url ws://127.0.0.1:7777/v1/ws --player p1 \\
        --name Aria --npc smith --say "Any work?" --say "Thanks." [--json]

    {"npc_id": "smith", "text": "...", "tier": "embedded", "backend": "...",
     "latency_ms": 41.5, "on_time": true, "floor": false, "ticket": 17,
     "deltas": 4}

Raw mode (send raw frames, print every reply envelope as a JSON line):

    python3 hearth_client.py --url ... --raw-hex "81a17601" [--hello-first]

Exit status: 0 success; 2 the server answered with an error frame (printed as
{"error": code, "message": ...}); 1 anything else (connection refused or
closed, timeout, bad reply), printed as {"error": "...", "message": ...}.
"""

import argparse
import asyncio
import json
import sys
import time

import msgpack
import websockets

PROTOCOL_VERSION = 1
SUBPROTOCOL_MSGPACK = "hearth.v1.msgpack"
SUBPROTOCOL_JSON = "hearth.v1.json"
MAX_FRAME_BYTES = 65536  # servers never send more (docs/protocol.md section 9)


class ServerError(Exception):
    """An error frame from the server."""

    def __init__(self, code, message):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message


class ClientFailure(Exception):
    """Anything that is not a server error frame: timeouts, closes, bad frames."""

    def __init__(self, kind, message, **extra):
        super().__init__("%s: %s" % (kind, message))
        self.kind = kind
        self.message = message
        self.extra = extra


def close_info(exc):
    """Close code and reason of a websockets ConnectionClosed exception."""
    rcvd = getattr(exc, "rcvd", None)
    if rcvd is not None:
        return rcvd.code, rcvd.reason
    return getattr(exc, "code", None), getattr(exc, "reason", "")


def jsonable(value):
    """Make a decoded MessagePack value printable as JSON."""
    if isinstance(value, bytes):
        return {"bin_hex": value.hex()}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


class Connection:
    """One WebSocket connection speaking the envelope format of section 2."""

    def __init__(self, ws, use_json):
        self.ws = ws
        self.use_json = use_json
        self.next_id = 0

    def new_id(self):
        self.next_id += 1
        return self.next_id

    def encode(self, msg_type, msg_id, payload):
        # Key order does not matter to servers; this is the documented order.
        envelope = {"v": PROTOCOL_VERSION, "type": msg_type, "id": msg_id, "tick": 0, "payload": payload}
        if self.use_json:
            return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
        return msgpack.packb(envelope, use_bin_type=True)

    async def send(self, msg_type, payload):
        msg_id = self.new_id()
        await self.ws.send(self.encode(msg_type, msg_id, payload))
        return msg_id

    def decode(self, data):
        """Decode one frame into an envelope dict; raises ClientFailure."""
        try:
            if self.use_json:
                if isinstance(data, bytes):
                    raise ClientFailure("bad_frame", "binary frame on %s" % SUBPROTOCOL_JSON)
                envelope = json.loads(data)
            else:
                if isinstance(data, str):
                    raise ClientFailure("bad_frame", "text frame on %s" % SUBPROTOCOL_MSGPACK)
                envelope = msgpack.unpackb(data, raw=False)
        except ClientFailure:
            raise
        except Exception as exc:  # msgpack and json raise many types
            raise ClientFailure("bad_frame", "undecodable frame from server: %s" % exc)
        if not isinstance(envelope, dict):
            raise ClientFailure("bad_frame", "envelope is not a map")
        if envelope.get("v") != PROTOCOL_VERSION:
            raise ClientFailure("bad_frame", "server sent protocol version %r" % envelope.get("v"))
        payload = envelope.get("payload")
        if payload is None:
            envelope["payload"] = {}
        elif not isinstance(payload, dict):
            raise ClientFailure("bad_frame", "payload is not a map")
        return envelope

    async def recv(self, deadline):
        """Next envelope, or ClientFailure on timeout or close."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ClientFailure("timeout", "no reply in time")
        try:
            data = await asyncio.wait_for(self.ws.recv(), remaining)
        except asyncio.TimeoutError:
            raise ClientFailure("timeout", "no reply in time")
        except websockets.exceptions.ConnectionClosed as exc:
            code, reason = close_info(exc)
            raise ClientFailure("closed", "connection closed (code %s) %s" % (code, reason), code=code)
        return self.decode(data)

    async def wait_reply(self, msg_id, deadline, on_frame):
        """Route frames by id (section 7) until on_frame returns a result.

        An error frame for msg_id raises ServerError; frames for other ids
        and frames of unknown types are ignored.
        """
        while True:
            env = await self.recv(deadline)
            if env.get("id") != msg_id:
                continue
            payload = env["payload"]
            if env.get("type") == "error":
                raise ServerError(payload.get("code", "internal"), payload.get("message", ""))
            result = on_frame(env.get("type"), payload)
            if result is not None:
                return result


async def hello(conn, args, deadline):
    payload = {"player_id": args.player}
    if args.name:
        payload["player_name"] = args.name
    payload["client"] = "hearth_client.py"
    msg_id = await conn.send("hello", payload)
    return await conn.wait_reply(msg_id, deadline, lambda t, p: p if t == "welcome" else None)


async def talk(conn, npc_id, text, budget_ms, deadline):
    payload = {"npc_id": npc_id, "text": text}
    if budget_ms:
        payload["budget_ms"] = budget_ms
    return await dialogue(conn, "talk", payload, deadline)


async def bark(conn, npc_id, trigger, budget_ms, deadline):
    """Ask the NPC for an ambient one-liner (docs/protocol.md: bark)."""
    payload = {"npc_id": npc_id, "trigger": trigger}
    if budget_ms:
        payload["budget_ms"] = budget_ms
    return await dialogue(conn, "bark", payload, deadline)


async def dialogue(conn, msg_type, payload, deadline):
    """Send a talk or a bark; collect its dialogue.delta frames and return its dialogue.done."""
    msg_id = await conn.send(msg_type, payload)
    state = {"deltas": 0, "streamed": ""}

    def on_frame(msg_type, p):
        if msg_type == "dialogue.delta":
            state["deltas"] += 1
            if p.get("reset"):
                state["streamed"] = ""
            state["streamed"] += p.get("text", "")
            return None
        if msg_type == "dialogue.done":
            return {
                "npc_id": p.get("npc_id", ""),
                "text": p.get("text", ""),  # authoritative, replaces the deltas
                "tier": p.get("tier", ""),
                "backend": p.get("backend", ""),
                "latency_ms": p.get("latency_ms", 0),
                "on_time": p.get("on_time", False),
                "floor": p.get("floor", False),
                "ticket": p.get("ticket", 0),
                "deltas": state["deltas"],
            }
        return None

    return await conn.wait_reply(msg_id, deadline, on_frame)


def emit(obj):
    print(json.dumps(obj, ensure_ascii=False), flush=True)


async def run_talks(conn, args, deadline):
    await hello(conn, args, deadline)
    for line in args.say:
        emit(await talk(conn, args.npc, line, args.budget, deadline))
    for trigger in args.bark:
        emit(await bark(conn, args.npc, trigger, args.budget, deadline))


async def run_raw(conn, args, deadline):
    if args.hello_first:
        await hello(conn, args, deadline)
    for h in args.raw_hex:
        await conn.ws.send(bytes.fromhex("".join(h.split())))
    for text in args.raw_text:
        await conn.ws.send(text)
    # Print every reply until the server has been quiet for --wait seconds.
    while True:
        quiet = min(deadline, time.monotonic() + args.wait)
        remaining = quiet - time.monotonic()
        if remaining <= 0:
            return
        try:
            data = await asyncio.wait_for(conn.ws.recv(), remaining)
        except asyncio.TimeoutError:
            return
        except websockets.exceptions.ConnectionClosed as exc:
            code, reason = close_info(exc)
            emit({"closed": code, "reason": reason})
            return
        try:
            emit(jsonable(conn.decode(data)))
        except ClientFailure as exc:
            emit({"undecodable": exc.message})


async def main_async(args):
    sub = SUBPROTOCOL_JSON if args.json else SUBPROTOCOL_MSGPACK
    deadline = time.monotonic() + args.timeout
    try:
        ws = await asyncio.wait_for(
            websockets.connect(args.url, subprotocols=[sub], max_size=MAX_FRAME_BYTES,
                               compression=None, open_timeout=None),
            args.timeout)
    except asyncio.TimeoutError:
        raise ClientFailure("timeout", "could not connect to %s in time" % args.url)
    except (OSError, websockets.exceptions.WebSocketException) as exc:
        raise ClientFailure("connect", "could not connect to %s: %s" % (args.url, exc))
    try:
        if ws.subprotocol != sub:
            raise ClientFailure("connect", "server negotiated subprotocol %r, want %r" % (ws.subprotocol, sub))
        conn = Connection(ws, args.json)
        if args.raw_hex or args.raw_text:
            await run_raw(conn, args, deadline)
        else:
            await run_talks(conn, args, deadline)
    finally:
        try:
            await asyncio.wait_for(ws.close(code=1000), 2)
        except Exception:
            pass


def parse_args(argv):
    ap = argparse.ArgumentParser(description="Hearth protocol v1 test client (see docs/protocol.md)")
    ap.add_argument("--url", required=True, help="ws://HOST:PORT/v1/ws")
    ap.add_argument("--player", required=True, help="hello.player_id")
    ap.add_argument("--name", default="", help="hello.player_name")
    ap.add_argument("--npc", help="talk.npc_id (required with --say)")
    ap.add_argument("--say", action="append", default=[], help="a line to say; repeat for several talks")
    ap.add_argument("--bark", action="append", default=[],
                    help="after the --say lines, ask the NPC for a bark with this trigger (e.g. proximity); repeatable")
    ap.add_argument("--budget", type=int, default=0, help="talk.budget_ms and bark.budget_ms (0: server default)")
    ap.add_argument("--json", action="store_true", help="use hearth.v1.json instead of hearth.v1.msgpack")
    ap.add_argument("--timeout", type=float, default=10.0, help="overall timeout in seconds")
    ap.add_argument("--raw-hex", action="append", default=[],
                    help="send this frame (hex bytes) as a binary frame and print the replies; repeatable")
    ap.add_argument("--raw-text", action="append", default=[],
                    help="send this text as a text frame and print the replies; repeatable")
    ap.add_argument("--hello-first", action="store_true", help="in raw mode, do the hello exchange first")
    ap.add_argument("--wait", type=float, default=1.0,
                    help="in raw mode, stop after this many seconds without a reply")
    args = ap.parse_args(argv)
    if not (args.raw_hex or args.raw_text):
        if not (args.say or args.bark):
            ap.error("give --say/--bark (talk mode) or --raw-hex/--raw-text (raw mode)")
        if not args.npc:
            ap.error("--npc is required with --say and --bark")
    return args


def main(argv=None):
    args = parse_args(argv)
    try:
        asyncio.run(main_async(args))
    except ServerError as exc:
        emit({"error": exc.code, "message": exc.message})
        return 2
    except ClientFailure as exc:
        out = {"error": exc.kind, "message": exc.message}
        out.update(exc.extra)
        emit(out)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
