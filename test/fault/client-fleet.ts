import { WebSocket } from "ws";
import { type ClientOptions, OrderStreamClient, type OrderEvent } from "@orderstream/client";
import { waitUntil } from "@orderstream/testkit";

/** One event as a fleet client's handler saw it. */
export interface SeenEvent {
  offset: string;
  type: string;
  orderId: string;
  status: string;
}

/** One SDK client of a {@link ClientFleet} and everything it observed. */
export interface FleetClient {
  index: number;
  client: OrderStreamClient;
  channels: string[];
  events: Map<string, SeenEvent[]>;
  opens: { url: string; at: number }[];
  closes: { code: number; at: number }[];
  /** Channels per `subscribed` reply that came back `recovered:false`. */
  recoveryFailed: string[][];
  subscribedChannels: Set<string>;
  errors: string[];
}

/** What one fleet client is given. */
export interface FleetClientSpec {
  urls: string[];
  token?: string;
  channels: string[];
  /** Offsets to resume from (as saved from an earlier client's `offsets()`). */
  offsets?: Record<string, string>;
}

/**
 * Many real SDK clients (`OrderStreamClient` over `ws`) in this process, each recording the events
 * its handlers got, its opens, closes and recoveryFailed reports, for the fault tests' checks.
 */
export class ClientFleet {
  readonly clients: FleetClient[] = [];

  constructor(private readonly options: Partial<ClientOptions> = {}) {}

  /** Creates, connects and subscribes the clients in batches; resolves when all are subscribed. */
  async connect(specs: FleetClientSpec[], batch = 200, timeoutMs = 60_000): Promise<void> {
    for (let i = 0; i < specs.length; i += batch) {
      const group = specs.slice(i, i + batch).map((s) => this.add(s));
      await waitUntil(
        () => group.every((c) => c.channels.every((ch) => c.subscribedChannels.has(ch))),
        `clients ${i}..${i + group.length - 1} subscribed`,
        timeoutMs,
        25,
      );
    }
  }

  private add(spec: FleetClientSpec): FleetClient {
    const client = new OrderStreamClient({
      WebSocket: WebSocket as never,
      url: spec.urls,
      ...(spec.token ? { token: spec.token } : {}),
      ...(spec.offsets ? { offsets: spec.offsets } : {}),
      minReconnectDelayMs: 200,
      maxReconnectDelayMs: 2_000,
      ...this.options,
    });
    const fc: FleetClient = {
      index: this.clients.length,
      client,
      channels: spec.channels,
      events: new Map(),
      opens: [],
      closes: [],
      recoveryFailed: [],
      subscribedChannels: new Set(),
      errors: [],
    };
    client.on("open", ({ url }) => fc.opens.push({ url, at: Date.now() }));
    client.on("close", ({ code }) => fc.closes.push({ code, at: Date.now() }));
    client.on("subscribed", ({ channels }) => channels.forEach((ch) => fc.subscribedChannels.add(ch)));
    client.on("recoveryFailed", ({ channels }) => fc.recoveryFailed.push(channels));
    client.on("error", (err) => {
      if (fc.errors.length < 20) fc.errors.push(err.message);
    });
    for (const ch of spec.channels) {
      const list: SeenEvent[] = [];
      fc.events.set(ch, list);
      client.subscribe(ch, (ev: OrderEvent) =>
        list.push({ offset: ev.offset, type: ev.type, orderId: ev.data.id, status: String(ev.data.status) }),
      );
    }
    client.connect();
    this.clients.push(fc);
    return fc;
  }

  /** Every channel any client subscribed to. */
  channels(): string[] {
    return [...new Set(this.clients.flatMap((c) => c.channels))];
  }

  /** Closes every client (no reconnect). */
  close(): void {
    for (const c of this.clients) c.client.close();
  }
}
