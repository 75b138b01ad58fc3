// Links mailed by the server, read from its outbox (DATA_DIR/outbox/*.eml, written when no
// SMTP server is set): the browser tests follow them as a person would from their inbox.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** A message's text with quoted-printable soft breaks and `=3D` undone (links are ASCII). */
function decoded(raw) {
  return raw.replace(/=\r?\n/g, "").replace(/=3D/g, "=");
}

/** Every link to `pathPart` in messages to `to` that are not in `seen` (file names). */
function links(outbox, to, pathPart, seen) {
  let files;
  try {
    files = readdirSync(outbox).filter((name) => name.endsWith(".eml") && !seen.has(name));
  } catch (error) {
    if (error.code === "ENOENT") return [];
    throw error;
  }
  const found = [];
  for (const name of files) {
    const text = decoded(readFileSync(join(outbox, name), "utf8"));
    const recipient = text.split(/\r?\n/).find((line) => /^to:/i.test(line)) ?? "";
    if (!recipient.toLowerCase().includes(to.toLowerCase())) continue;
    const match = text.match(new RegExp(`https?://[^\\s"<>]*${pathPart}[^\\s"<>]*`));
    if (match) found.push({ name, url: match[0] });
  }
  return found;
}

/** The names of the messages in the outbox now, to wait for a newer one. */
export function outboxNow(outbox) {
  try {
    return new Set(readdirSync(outbox));
  } catch (error) {
    if (error.code === "ENOENT") return new Set();
    throw error;
  }
}

/**
 * The link to `pathPart` in the first new message to `to` (not among `seen`). The message is
 * a background job's work, so it is waited for: polled until `timeoutMs`, then an error.
 */
export async function waitForMailedLink(outbox, to, pathPart, seen, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [first] = links(outbox, to, pathPart, seen);
    if (first) return first.url;
    if (Date.now() > deadline) throw new Error(`no mail to ${to} with a ${pathPart} link in ${outbox}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
