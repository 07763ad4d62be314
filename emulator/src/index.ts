/**
 * The Cloudflare API emulator Worker: every request goes to the one `EmulatorState` Durable
 * Object (`idFromName("global")`), which holds all emulated accounts in SQLite.
 */
import { DurableObject } from "cloudflare:workers";
import { Emulator } from "./emulator";
import { type RateLimitVars, rateLimitDefaults } from "./limit-controls";

/** Bindings of the emulator Worker (see emulator/wrangler.toml). */
export interface EmulatorEnv extends RateLimitVars {
  STATE: DurableObjectNamespace<EmulatorState>;
}

/** The single state holder; requests are served one at a time except while a fault delays. */
export class EmulatorState extends DurableObject<EmulatorEnv> {
  private readonly emulator: Emulator;

  constructor(ctx: DurableObjectState, env: EmulatorEnv) {
    super(ctx, env);
    this.emulator = new Emulator(ctx.storage.sql, rateLimitDefaults(env));
  }

  override fetch(request: Request): Promise<Response> {
    return this.emulator.handle(request);
  }
}

export default {
  fetch(request: Request, env: EmulatorEnv): Promise<Response> {
    return env.STATE.get(env.STATE.idFromName("global")).fetch(request);
  },
} satisfies ExportedHandler<EmulatorEnv>;
