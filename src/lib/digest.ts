/** SHA-256 through WebCrypto, as lower-case hex: API key hashes and the audit hash chain. */

/** SHA-256 of the UTF-8 bytes of `text`, 64 lower-case hex characters. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
