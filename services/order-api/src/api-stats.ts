/** Counters of the running server, for tests, logs and a future metrics endpoint. */
export interface ApiStats {
  /** SubscribeOrders streams open now. */
  subscribers: number;
  /** SubscribeOrders streams cancelled because they read too slowly. */
  slowSubscribersCancelled: number;
  /** Orders created (CreateOrder and BulkCreateOrders). */
  ordersCreated: number;
}

/** Zeroed counters. */
export function newApiStats(): ApiStats {
  return { subscribers: 0, slowSubscribersCancelled: 0, ordersCreated: 0 };
}
