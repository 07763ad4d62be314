/** Wire shapes the tests read back from the API (only the fields they look at). */

/** Any created object: its id. */
export interface Created {
  id: string;
}

/** A run record as `POST reconcile` and `GET runs` return it. */
export interface RunBody {
  id: string;
  trigger: string;
  outcome: string;
  continued: boolean;
  continue_at: string | null;
  counts: Record<string, number>;
  drift: { kind: string; key: string; reason: string }[];
  errors: {
    kind: string | null;
    key: string | null;
    message: string;
    retryable: boolean;
    permission?: string;
  }[];
  actions: {
    op: string;
    kind: string;
    key: string;
    reason: string;
    outcome: string;
    cloudflare_id: string | null;
    error: string | null;
  }[];
}
