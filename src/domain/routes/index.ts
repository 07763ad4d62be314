/** Checks over tunnel routes: duplicates, overlaps, reserved ranges, home LAN collisions. */
export * from "./conflicts";
