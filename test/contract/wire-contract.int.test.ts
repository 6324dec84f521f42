import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLOSE_CODE_TABLE, EMPTY_CHANNEL_OFFSET, ERROR_CODES, OFFSET_PATTERN, eventFrameText, parsePosition } from "@orderstream/client";
import { EMPTY_OFFSET, epochDigest, formatCompositeOffset, formatOffset } from "@orderstream/domain";
import { OrderStore, closeRedis, createRedis, readChannelHistory, waitReady, type RedisConnection } from "@orderstream/bus";
import { type TestRedis, startRedis } from "@orderstream/testkit";

// The wire contract lives in packages/client/src/wire-contract.ts; what is written elsewhere (the
// README's tables, the edge's CLOSE_CODES.md, the frames the Redis scripts build) is held to it here.
const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const EDGE_CLOSE_CODES_MD = readFileSync(new URL("../../services/edge/CLOSE_CODES.md", import.meta.url), "utf8");
const GROUP_LABEL = { reconnect: "reconnect", noReconnect: "don't reconnect" } as const;

describe("the wire contract, as documented", () => {
  it("the README's close-code table is the contract's table, row for row", () => {
    const rows = [...README.matchAll(/^\| (\d{4}) \| ([^|]+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$/gm)].map((m) =>
      m.slice(1, 6).map((c) => (c ?? "").trim()),
    );
    const expected = Object.values(CLOSE_CODE_TABLE).map((c) => [String(c.code), c.reason, GROUP_LABEL[c.group], c.when, c.clientShould]);
    expect(rows).toEqual(expected);
  });

  it("the edge's CLOSE_CODES.md has every code of the contract, in its group", () => {
    const rows = [...EDGE_CLOSE_CODES_MD.matchAll(/^\| (\d{4}) \| [^|]+ \| (reconnect|don't reconnect) \|/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(rows.sort()).toEqual(Object.values(CLOSE_CODE_TABLE).map((c) => `${c.code} ${GROUP_LABEL[c.group]}`).sort());
  });

  it("the README lists exactly the contract's error codes, in its order", () => {
    const para = /Error frames that keep the socket open:\s*([^.]+)\./.exec(README)?.[1] ?? "";
    const listed = [...para.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
    expect(listed).toEqual(Object.keys(ERROR_CODES));
  });
});

describe("offsets, as the server makes them and the SDK reads them", () => {
  it("the empty-channel offset is one value on both sides", () => {
    expect(EMPTY_OFFSET).toBe(EMPTY_CHANNEL_OFFSET);
  });

  it("a plain and a composite offset match the contract's shape, and the SDK reads their <epoch>:<seq> head", () => {
    const plain = formatOffset({ epoch: "k3x9a1b2", seq: 42 });
    const digest = epochDigest(Array.from({ length: 12 }, (_, i) => `epoch${i}`));
    const composite = formatCompositeOffset({ digest, seqs: [3, 0, 7, 1, 0, 0, 0, 2, 0, 0, 0, 9] });
    for (const o of [plain, composite]) expect(o).toMatch(OFFSET_PATTERN);
    expect(parsePosition(plain)).toEqual({ epoch: "k3x9a1b2", seq: 42 });
    // The head counts the events the position covers: what the SDK de-duplicates by.
    expect(parsePosition(composite)).toEqual({ epoch: digest, seq: 22 });
    const max = formatCompositeOffset({ digest, seqs: Array.from({ length: 256 }, () => 999_999_999_999) });
    expect(max).toMatch(OFFSET_PATTERN);
  });
});

describe("the event frame the Redis scripts build", () => {
  let redis: TestRedis;
  let conn: RedisConnection;
  beforeAll(async () => {
    redis = await startRedis();
    conn = createRedis(redis.url, { role: "command", name: "contract-test" });
    await waitReady(conn);
  });
  afterAll(async () => {
    await closeRedis(conn);
    await redis.stop();
  });

  it("is the contract's template, byte for byte, on every channel of both event types", async () => {
    const store = new OrderStore(conn);
    const { order } = await store.create({ userId: "wire", items: [{ productId: "p", quantity: 2, price: 1.25 }] });
    expect((await store.transition(order.id, "confirm")).ok).toBe(true);
    const frames: string[] = [];
    for (const ch of ["orders.created", "orders.status", "orders.user.wire"]) {
      frames.push(...(await readChannelHistory(conn, ch, store.partitions)));
    }
    expect(frames).toHaveLength(4);
    for (const frame of frames) {
      const parsed = JSON.parse(frame) as { type: "order.created" | "order.status"; channel: string; offset: string };
      const data = frame.slice(frame.indexOf(',"data":') + ',"data":'.length, -1);
      expect(frame).toBe(eventFrameText(parsed.type, parsed.channel, parsed.offset, data));
      expect(JSON.parse(data)).toMatchObject({ id: order.id, userId: "wire" });
    }
  });
});
