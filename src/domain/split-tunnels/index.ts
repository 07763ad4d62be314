/** Split tunnel lists: WARP defaults, the effective list per profile, budgets, LAN collisions. */
export * from "./budget";
export * from "./budget-include";
export * from "./defaults";
export * from "./effective";
export * from "./home-lan";
export * from "./profile-routes";
