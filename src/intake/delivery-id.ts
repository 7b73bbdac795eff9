// File names from delivery ids. GitHub's ids are UUIDs, but the id comes from a request
// header (or a CLI flag) and becomes a file name in the spool and in the data repo, so
// anything outside [A-Za-z0-9._-], a leading dot, "..", or excess length is replaced; a replaced
// id gets a hash of the original appended, so two different ids never share a name.
import { createHash } from "node:crypto";
import { InputError } from "../errors.js";

export const MAX_STEM_LENGTH = 100;

export function deliveryFileStem(deliveryId: string): string {
  if (typeof deliveryId !== "string" || deliveryId.trim() === "") throw new InputError("delivery id is empty");
  // No leading dot (hidden, and the temp-file prefix) and no ".." (path checks refuse it).
  const clean = deliveryId.replace(/[^A-Za-z0-9._-]/g, "_").replace(/\.{2,}/g, "_").replace(/^\./, "_");
  if (clean === deliveryId && clean.length <= MAX_STEM_LENGTH) return clean;
  const hash = createHash("sha256").update(deliveryId).digest("hex").slice(0, 16);
  return `${clean.slice(0, MAX_STEM_LENGTH - hash.length - 1)}-${hash}`;
}
