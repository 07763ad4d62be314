/** Account-wide conflicts (routes and every profile's split tunnel) and client LAN checks. */
export * from "./account";
export * from "./client-lan";
export * from "./describe";
export * from "./hostname-routes";
export * from "./private-apps";
