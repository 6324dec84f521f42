import { type Order, OrderServiceService } from "@orderstream/proto";

/**
 * The generated OrderService definition, except that SubscribeOrders also accepts an already
 * encoded Order: an event is encoded once and the same bytes are written to every stream.
 */
export const ORDER_SERVICE = {
  ...OrderServiceService,
  subscribeOrders: {
    ...OrderServiceService.subscribeOrders,
    responseSerialize: (value: Order | Buffer): Buffer =>
      Buffer.isBuffer(value) ? value : OrderServiceService.subscribeOrders.responseSerialize(value),
  },
} as const;
