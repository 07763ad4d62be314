/** Split tunnel lists: WARP defaults, the effective list per profile, LAN collisions. */
export * from "./defaults";
export * from "./effective";
export * from "./home-lan";
export * from "./profile-routes";
