import { WebSocket } from "ws";
import { OrderStreamClient, type OrderEvent } from "@orderstream/client";
import { waitUntil } from "@orderstream/testkit";
import type { SeenEvent } from "./client-fleet.js";
import type { DeliveryRecord } from "./history-truth.js";

/** One logical subscriber: a chain of SDK clients, each resuming from the offsets its predecessor saved. */
export interface SubscriberChain {
  index: number;
  token: string;
  channels: string[];
  /** Every event any link of the chain delivered, in order: must equal the channel's history. */
  events: Map<string, SeenEvent[]>;
  live: { client: OrderStreamClient; subscribed: Set<string>; retired: boolean } | undefined;
  links: number;
  opens: number;
  closes: number;
  recoveryFailed: string[][];
  errors: string[];
}

/** Options of {@link ChurningFleet}. */
export interface ChurnOptions {
  urls: string[];
  /** Retirements per second (each followed by a resume after 0..maxGapMs); bounded by the chains. */
  churnPerS: number;
  maxGapMs: number;
}

/**
 * Subscribers that come and go: each chain's current client is closed at random (after it is
 * subscribed), its offsets saved, and a new client on a random node resumes from them a moment
 * later. The chain's events, link after link, must add up to the channel's whole history.
 */
export class ChurningFleet implements DeliveryRecord {
  readonly clients: SubscriberChain[] = [];
  retirements = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly gaps = new Set<NodeJS.Timeout>();

  constructor(private readonly opts: ChurnOptions) {}

  /** Adds chains (one client each, before any order) and waits until every one is subscribed. */
  async connect(specs: { token: string; channels: string[] }[], timeoutMs = 60_000): Promise<void> {
    for (const s of specs) {
      const chain: SubscriberChain = {
        index: this.clients.length,
        ...s,
        events: new Map(s.channels.map((ch) => [ch, []])),
        live: undefined,
        links: 0,
        opens: 0,
        closes: 0,
        recoveryFailed: [],
        errors: [],
      };
      this.clients.push(chain);
      this.link(chain, undefined);
    }
    await this.settled(timeoutMs);
  }

  /** Starts retiring and resuming clients at `churnPerS`. */
  startChurn(): void {
    const everyMs = Math.max(20, Math.round(1000 / this.opts.churnPerS));
    this.timer = setInterval(() => this.retireOne(), everyMs);
  }

  /** Stops the churn and waits until every chain has a subscribed client again. */
  async stopChurn(timeoutMs = 30_000): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await waitUntil(() => this.gaps.size === 0, "every retired chain resumed", timeoutMs, 25);
    await this.settled(timeoutMs);
  }

  /** Sockets open now (one per chain at most). */
  liveSockets(): number {
    return this.clients.filter((c) => c.live && !c.live.retired).length;
  }

  /** Closes every client (no reconnect). */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    for (const t of this.gaps) clearTimeout(t);
    this.gaps.clear();
    for (const c of this.clients) c.live?.client.close();
  }

  private async settled(timeoutMs: number): Promise<void> {
    await waitUntil(
      () => this.clients.every((c) => c.live !== undefined && c.channels.every((ch) => c.live?.subscribed.has(ch))),
      "every chain subscribed",
      timeoutMs,
      25,
    );
  }

  private retireOne(): void {
    const ready = this.clients.filter((c) => c.live && !c.live.retired && c.channels.every((ch) => c.live?.subscribed.has(ch)));
    const chain = ready[Math.floor(Math.random() * ready.length)];
    if (!chain?.live) return;
    chain.live.retired = true;
    chain.live.client.close();
    const offsets = chain.live.client.offsets();
    this.retirements++;
    const gap = setTimeout(() => {
      this.gaps.delete(gap);
      this.link(chain, offsets);
    }, Math.random() * this.opts.maxGapMs);
    this.gaps.add(gap);
  }

  private link(chain: SubscriberChain, offsets: Record<string, string> | undefined): void {
    const start = Math.floor(Math.random() * this.opts.urls.length);
    const urls = [...this.opts.urls.slice(start), ...this.opts.urls.slice(0, start)];
    const client = new OrderStreamClient({
      WebSocket: WebSocket as never,
      url: urls,
      token: chain.token,
      ...(offsets ? { offsets } : {}),
      minReconnectDelayMs: 200,
      maxReconnectDelayMs: 2_000,
    });
    const live = { client, subscribed: new Set<string>(), retired: false };
    chain.live = live;
    chain.links++;
    client.on("open", () => chain.opens++);
    client.on("close", () => chain.closes++);
    client.on("subscribed", ({ channels }) => channels.forEach((ch) => live.subscribed.add(ch)));
    client.on("recoveryFailed", ({ channels }) => chain.recoveryFailed.push(channels));
    client.on("error", (err) => {
      if (chain.errors.length < 20) chain.errors.push(err.message);
    });
    for (const ch of chain.channels) {
      const list = chain.events.get(ch) as SeenEvent[];
      client.subscribe(ch, (ev: OrderEvent) => {
        // A retired client's offsets were saved when it closed: anything after that is its successor's.
        if (!live.retired) list.push({ offset: ev.offset, type: ev.type, orderId: ev.data.id, status: String(ev.data.status) });
      });
    }
    client.connect();
  }
}
