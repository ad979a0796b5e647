/** A message or plan the masker cannot handle safely. The proxy closes the session on it. */
export class MaskingError extends Error {
  override readonly name = "MaskingError";
}
