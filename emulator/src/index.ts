import { DurableObject } from "cloudflare:workers";

export class EmulatorState extends DurableObject {}

export default {
  fetch(): Response {
    return new Response("emulator not built yet", { status: 501 });
  },
};
