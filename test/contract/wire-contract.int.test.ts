import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EMPTY_OFFSET, OFFSET_PATTERN, epochDigest, eventFrameText, formatCompositeOffset, formatOffset, offsetHead } from "@orderstream/wire";
import { createFrameValidator } from "@orderstream/wire/validate";
import { OrderStore, closeRedis, createRedis, readChannelHistory, waitReady, type RedisConnection } from "@orderstream/bus";
import { type TestRedis, startRedis } from "@orderstream/testkit";

// The wire protocol lives in packages/wire; here the frames the Redis scripts build are held to
// its template and schemas, and the offsets the server makes to the shape clients read.

describe("offsets, as the server makes them and clients read them", () => {
  it("a plain and a composite offset match the protocol's shape, and their <epoch>:<seq> head reads back", () => {
    const plain = formatOffset({ epoch: "k3x9a1b2", seq: 42 });
    const digest = epochDigest(Array.from({ length: 12 }, (_, i) => `epoch${i}`));
    const composite = formatCompositeOffset({ digest, seqs: [3, 0, 7, 1, 0, 0, 0, 2, 0, 0, 0, 9] });
    for (const o of [plain, composite]) expect(o).toMatch(OFFSET_PATTERN);
    expect(offsetHead(plain)).toEqual({ epoch: "k3x9a1b2", seq: 42 });
    // The head counts the events the position covers: what a client de-duplicates by.
    expect(offsetHead(composite)).toEqual({ epoch: digest, seq: 22 });
    expect(EMPTY_OFFSET).toBe(":0");
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

  it("is the protocol's template, byte for byte, and matches its schema, on every channel of both event types", async () => {
    const store = new OrderStore(conn);
    const { order } = await store.create({ userId: "wire", items: [{ productId: "p", quantity: 2, price: 1.25 }] });
    expect((await store.transition(order.id, "confirm")).ok).toBe(true);
    const frames: string[] = [];
    for (const ch of ["orders.created", "orders.status", "orders.user.wire"]) {
      frames.push(...(await readChannelHistory(conn, ch, store.partitions)));
    }
    expect(frames).toHaveLength(4);
    const validator = createFrameValidator();
    for (const frame of frames) {
      const parsed = JSON.parse(frame) as { type: "order.created" | "order.status"; channel: string; offset: string };
      const data = frame.slice(frame.indexOf(',"data":') + ',"data":'.length, -1);
      expect(frame).toBe(eventFrameText(parsed.type, parsed.channel, parsed.offset, data));
      expect(validator.serverFrameProblem(frame)).toBeUndefined();
      expect(JSON.parse(data)).toMatchObject({ id: order.id, userId: "wire" });
    }
  });
});
