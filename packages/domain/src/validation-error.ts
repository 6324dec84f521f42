/** A rejected input, naming the offending field (proto field path, e.g. `items[2].quantity`). */
export class ValidationError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = "ValidationError";
  }
}
