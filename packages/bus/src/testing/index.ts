/** Test-only backends: the in-memory broker (with injectable faults), for contract and unit tests. */
export * from "../read/memory-broker.js";
