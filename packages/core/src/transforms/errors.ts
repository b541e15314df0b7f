// Coded errors of the transforms. They extend FormatError so one `instanceof FormatError` catches
// every coded core error (the CLI and the server map `code` and `details` to messages and statuses).

import { FormatError } from '../errors.ts';

export class TransformError extends FormatError {
  constructor(code: string, message: string, details: Readonly<Record<string, string | number>> = {}) {
    super(code, message, details);
    this.name = 'TransformError';
  }
}
