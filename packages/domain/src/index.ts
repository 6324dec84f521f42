export * from "./validation-error.js";
export * from "./order-validation.js";
export * from "./order-total.js";
export * from "./order-status.js";
export * from "./channels.js";
export * from "./event-envelope.js";
