import { type Socket, connect as netConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";

/**
 * A lean WebSocket client for load: RFC 6455 text frames straight on a TCP (or TLS) socket, one
 * small object per connection and no per-socket closures (the listeners are shared functions that
 * find their connection through the socket). The `ws` package keeps a Receiver and a Sender stream
 * per socket (several KB); this keeps a state number, a partial-frame buffer and the close code.
 * Not supported, because an orderstream edge never sends them: fragmented messages and
 * permessage-deflate (not offered in the handshake).
 */

/** RFC 6455's sample key and its accept value: a load client needs no random nonce. */
const KEY = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
/** A handshake reply longer than this without its end is not an HTTP response. */
const MAX_HEAD = 16_384;

/** A raw socket's life: connecting (TCP + upgrade), open, closing (close frame sent or received), closed. */
export const RAW = { connecting: 0, open: 1, closing: 2, closed: 3 } as const;

/** What a fleet does with its sockets' events; one handler serves every socket. */
export interface RawHandler<T> {
  open(ws: RawWebSocket<T>): void;
  /** A text message (the payload, valid until the handler returns). */
  text(ws: RawWebSocket<T>, payload: Buffer): void;
  /**
   * The connection ended: `code` from the server's close frame, 1006 without one. `failure` is set
   * when it never opened: `http_<status>`, `timeout`, an error code such as `ECONNREFUSED`.
   */
  close(ws: RawWebSocket<T>, code: number, failure: string | undefined): void;
}

/** Where and how to connect: parsed once per URL, shared by every socket to it. */
export interface RawTarget {
  host: string;
  port: number;
  tls: boolean;
  /** The upgrade request, whole. */
  request: string;
}

/** The target of a ws:// or wss:// URL (`origin` adds an Origin header, as a browser sends). */
export function rawTarget(url: string, origin?: string): RawTarget {
  const u = new URL(url);
  if (u.protocol !== "ws:" && u.protocol !== "wss:") throw new Error(`WebSocket URL must start with ws:// or wss://: "${url}"`);
  const tls = u.protocol === "wss:";
  const port = u.port ? Number(u.port) : tls ? 443 : 80;
  const host = u.hostname.replace(/^\[|\]$/g, "");
  const request =
    `GET ${u.pathname || "/"}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n${origin ? `Origin: ${origin}\r\n` : ""}\r\n`;
  return { host, port, tls, request };
}

/** Where a connection comes from (unset: the kernel's choice). */
export interface RawSource {
  localAddress?: string;
  localPort?: number;
}

const OWNER = Symbol("rawWebSocket");
type OwnedSocket = Socket & { [OWNER]: RawWebSocket<unknown> };

/** One client WebSocket; `data` is the caller's tag (e.g. the socket's index). */
export class RawWebSocket<T = unknown> {
  state: number = RAW.connecting;
  /** The server's close code, once its close frame arrived. */
  private closeCode = 1006;
  private failure: string | undefined = undefined;
  private rest: Buffer | null = null;
  /** The upgrade request (shared by every socket to the target) until it is written. */
  private request: string | undefined;
  private readonly sock: Socket;

  constructor(
    target: RawTarget,
    readonly data: T,
    private readonly handler: RawHandler<T>,
    source: RawSource = {},
    timeoutMs = 10_000,
  ) {
    const opts = { host: target.host, port: target.port, ...source };
    const sock = (target.tls ? tlsConnect({ ...opts, servername: target.host }) : netConnect(opts)) as OwnedSocket;
    sock[OWNER] = this as RawWebSocket<unknown>;
    this.sock = sock;
    sock.setNoDelay(true);
    sock.setTimeout(timeoutMs);
    sock.once(target.tls ? "secureConnect" : "connect", onConnect);
    sock.on("data", onData);
    sock.on("timeout", onTimeout);
    sock.on("error", onError);
    sock.once("close", onClose);
    this.request = target.request;
  }

  /** Sends a text message (masked with a zero key: valid, and no copy of the payload to mask). */
  send(text: string): void {
    if (this.state !== RAW.open) return;
    this.sock.write(frame(0x81, Buffer.from(text)));
  }

  /** Sends text messages in one write (e.g. `connect` and `subscribe` right after the upgrade). */
  sendFrames(texts: string[]): void {
    if (this.state !== RAW.open) return;
    this.sock.write(
      texts.length === 1 ? frame(0x81, Buffer.from(texts[0] as string)) : Buffer.concat(texts.map((t) => frame(0x81, Buffer.from(t)))),
    );
  }

  /** Sends a close frame; the server answers with its own and closes the connection. */
  close(code = 1000): void {
    if (this.state !== RAW.open) {
      if (this.state === RAW.connecting) this.terminate();
      return;
    }
    this.state = RAW.closing;
    const body = Buffer.allocUnsafe(2);
    body.writeUInt16BE(code, 0);
    this.sock.write(frame(0x88, body));
  }

  /** Drops the connection without a close handshake. */
  terminate(): void {
    this.sock.destroy();
  }

  pause(): void {
    this.sock.pause();
  }

  resume(): void {
    this.sock.resume();
  }

  get isPaused(): boolean {
    return this.sock.isPaused();
  }

  /** Bytes read from the connection so far (handshake and frame headers included). */
  get bytesRead(): number {
    return this.sock.bytesRead;
  }

  private fail(reason: string): void {
    this.failure ??= reason;
    this.sock.destroy();
  }

  /** Handles the bytes of one `data` event. */
  private consume(chunk: Buffer): void {
    let buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = null;
    if (this.state === RAW.connecting) {
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) {
        if (buf.length > MAX_HEAD) return this.fail("bad_handshake");
        this.rest = buf;
        return;
      }
      const head = buf.toString("latin1", 0, end);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(head)?.[1];
      if (status !== "101") return this.fail(status ? `http_${status}` : "bad_handshake");
      if (!head.includes(ACCEPT)) return this.fail("bad_accept");
      this.state = RAW.open;
      this.sock.setTimeout(0);
      this.handler.open(this);
      buf = buf.subarray(end + 4);
    }
    let off = 0;
    while (this.state !== RAW.closed && buf.length - off >= 2) {
      const b0 = buf[off] as number;
      let len = (buf[off + 1] as number) & 0x7f;
      let head = 2;
      if (len === 126) {
        if (buf.length - off < 4) break;
        len = buf.readUInt16BE(off + 2);
        head = 4;
      } else if (len === 127) {
        if (buf.length - off < 10) break;
        len = Number(buf.readBigUInt64BE(off + 2));
        head = 10;
      }
      if (buf.length - off < head + len) break;
      const payload = buf.subarray(off + head, off + head + len);
      off += head + len;
      const op = b0 & 0x0f;
      if (op === 0x1 || op === 0x0) {
        if (this.state === RAW.open) this.handler.text(this, payload);
      } else if (op === 0x9) {
        this.sock.write(frame(0x8a, payload));
      } else if (op === 0x8) {
        this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        // Echo the close (RFC 6455 §5.5.1) unless ours went first; the server then closes TCP.
        if (this.state === RAW.open) this.sock.end(frame(0x88, payload.subarray(0, 2)));
        this.state = RAW.closing;
      }
    }
    // Copy the tail: a view would keep the whole chunk alive until the next read.
    if (off < buf.length && this.state !== RAW.closed) this.rest = Buffer.from(buf.subarray(off));
  }

  /** The TCP connection is gone: the handler hears it once. */
  private ended(): void {
    const opened = this.state !== RAW.connecting;
    this.state = RAW.closed;
    this.rest = null;
    this.handler.close(this, this.closeCode, opened ? undefined : (this.failure ?? "closed_before_open"));
  }

  static connected(sock: OwnedSocket): void {
    const ws = sock[OWNER];
    if (ws.request !== undefined) sock.write(ws.request);
    ws.request = undefined;
  }

  static received(sock: OwnedSocket, chunk: Buffer): void {
    sock[OWNER].consume(chunk);
  }

  static failed(sock: OwnedSocket, reason: string): void {
    sock[OWNER].fail(reason);
  }

  static closed(sock: OwnedSocket): void {
    sock[OWNER].ended();
  }
}

/** A client frame: FIN + opcode, the length, a zero mask key, the payload (unchanged by it). */
function frame(first: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head = len < 126 ? 2 : len < 65_536 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + 4 + len);
  out[0] = first;
  if (head === 2) out[1] = 0x80 | len;
  else if (head === 4) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(len), 2);
  }
  out.writeUInt32BE(0, head);
  payload.copy(out, head + 4);
  return out;
}

function onConnect(this: OwnedSocket): void {
  RawWebSocket.connected(this);
}
function onData(this: OwnedSocket, chunk: Buffer): void {
  RawWebSocket.received(this, chunk);
}
function onTimeout(this: OwnedSocket): void {
  RawWebSocket.failed(this, "timeout");
}
function onError(this: OwnedSocket, err: Error & { code?: string }): void {
  RawWebSocket.failed(this, err.code ?? (err.message.slice(0, 60) || "error"));
}
function onClose(this: OwnedSocket): void {
  RawWebSocket.closed(this);
}
