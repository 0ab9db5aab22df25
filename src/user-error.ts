// Errors the user can cause (files, options, images): a message for one line on
// stderr and exit status 2. Everything else is a bug and keeps its stack.
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}
