/**
 * The base of every typed error Sotto raises or returns. `code` is stable and machine-readable;
 * `message` is for people and never contains secrets or plaintext.
 */
export class SottoError<C extends string = string> extends Error {
  readonly code: C;

  constructor(code: C, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}
