/** Gateway network policies: rendering, email regexes, parsing, evaluation and precedence. */
export * from "./email-regex";
export * from "./evaluate";
export * from "./parse";
export * from "./precedence";
export * from "./render";
export * from "./selectors";
