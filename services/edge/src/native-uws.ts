import uWS from "uWebSockets.js";

/**
 * The uWebSockets.js module, refusing the package's pure-JS fallback (UWS_USE_FALLBACK or a
 * missing binary): the edge's fan-out and backpressure handling rely on the native C++ build.
 */
export function nativeUws(): typeof uWS {
  if (typeof uWS.App !== "function" || !String(uWS.App).includes("[native code]"))
    throw new Error("uWebSockets.js is not the native build (fallback implementation loaded); refusing to start");
  return uWS;
}
