/**
 * Base of the errors the codecs throw to carry a parse verdict a few frames up
 * to their own entry point, which turns it into data; they never escape. A
 * refused command is ordinary client input, so these capture no stack trace:
 * capturing one made a refusal cost 5-17 µs instead of 1-4, twenty times a
 * valid command, and a stream of junk commands stalled the event loop.
 */
export class VerdictError extends Error {
  constructor(message: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
  }
}
