import { createFrameValidator } from "@orderstream/wire/validate";
import type { EdgeSocket } from "./socket-state.js";

/** Where every frame the edge sends goes through: one socket's `send`, or the check before a topic publish. */
export interface Outbound {
  /** Sends a text frame to one open socket (deflated when `compress` and the socket negotiated permessage-deflate). */
  send(ws: EdgeSocket, text: string): void;
  /** Checks a frame about to be published to a channel's topic (a no-op unless validating). */
  check(text: string): void;
  /**
   * EDGE_COMPRESSION is on: the `compress` hint of every `send` and topic `publish`. uWS deflates
   * only for sockets that negotiated permessage-deflate; the others get the frame as it is.
   */
  readonly compress: boolean;
}

/**
 * The node's outbound path. With `validate` (EDGE_VALIDATE_FRAMES, on in the test suite) every
 * frame is checked against its JSON Schema from packages/wire before it leaves, and a mismatch
 * calls `onViolation` (the node logs it and exits: a contract break must fail the tests loudly,
 * not be sampled). Without it, frames go out as they are. `compress`: see {@link Outbound.compress}.
 */
export function outbound(validate: boolean, onViolation: (problem: string) => void, compress = false): Outbound {
  if (!validate)
    return {
      send: (ws, text) => {
        ws.send(text, false, compress);
      },
      check: () => undefined,
      compress,
    };
  const validator = createFrameValidator();
  const check = (text: string): void => {
    const problem = validator.serverFrameProblem(text);
    if (problem !== undefined) onViolation(problem);
  };
  return {
    send: (ws, text) => {
      check(text);
      ws.send(text, false, compress);
    },
    check,
    compress,
  };
}
