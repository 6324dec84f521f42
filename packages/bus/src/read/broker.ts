/** The broker contract: live frames and history of channels, one backend chosen at start. */
import type { StreamPosition } from "@orderstream/wire";

/** What a resume from an offset found in a channel's history. */
export interface HistoryRead {
  /** True when `frames` are exactly the events after the asked position (possibly none). */
  recovered: boolean;
  /** Event frame texts after the asked position, oldest first (empty when not recovered). */
  frames: string[];
  /** The channel's current position (epoch "" when the channel has no history yet). */
  top: StreamPosition;
}

/**
 * What a broker reports to the one handler a process registers (centrifuge's
 * BrokerEventHandler): every frame published on a subscribed channel, and the moments when a lost
 * connection's subscriptions were restored, after which what was published meanwhile must be read
 * from history.
 */
export interface BrokerHandler {
  onFrame(channel: string, frame: string): void;
  onResubscribed(): void;
}

/**
 * The transport under {@link ChannelFeed}: live frames and history of broker channels, one backend
 * chosen at start (in memory, Redis single node, Redis Cluster with sharded pub/sub). It keeps no
 * per-channel bookkeeping of its own: {@link ChannelFeed} decides when a channel is subscribed.
 */
export interface Broker {
  /** Whether the connection that carries the subscriptions is up now. */
  isConnected(): boolean;
  /** Registers the handler of every frame; called once, before the first subscribe. */
  setHandler(handler: BrokerHandler): void;
  /**
   * Subscribes to channels that are not subscribed yet, as few calls as the backend allows; rejects
   * when any of them failed (the caller then unsubscribes all of them).
   */
  subscribe(channels: readonly string[]): Promise<void>;
  /** Drops subscriptions; never rejects (a lost connection has dropped them already). */
  unsubscribe(channels: readonly string[]): Promise<void>;
  /** The events of `channel` after `since`, at most `maxCount` of them. */
  readSince(channel: string, since: StreamPosition, maxCount: number): Promise<HistoryRead>;
  /**
   * The channel's current position. For a partition stream it fixes the epoch when the stream has
   * none yet, so that composite offsets name every partition's epoch from the start.
   */
  position(channel: string): Promise<StreamPosition>;
}
