/** Gateway network policies: rendering, email regexes, parsing, evaluation and precedence. */
export * from "./email-regex";
export * from "./evaluate";
export * from "./expression";
export * from "./parse";
export * from "./precedence";
export * from "./read-selectors";
export * from "./render";
export * from "./selectors";
