/**
 * Channel names belong to the wire protocol (packages/wire); the domain re-exports them for the
 * code that builds events (the write path names the channels an event goes to).
 */
export {
  CHANNEL_CREATED,
  CHANNEL_STATUS,
  type Channel,
  MAX_CHANNEL_LENGTH,
  USER_CHANNEL_PREFIX,
  parseChannel,
  userChannel,
} from "@orderstream/wire";
