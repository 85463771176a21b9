/// When and how long to wait before sending a failed request again.
///
/// The delay before attempt n + 1 is drawn uniformly from 0 to
/// min(`maxDelay`, `baseDelay` × 2^(n-1)), the "full jitter" form of
/// exponential backoff, so that many clients that failed together do not
/// retry together. A `Retry-After` from the server sets a lower bound on
/// the delay, up to `retryAfterCap`. No attempt and no sleep runs past the
/// deadline.
struct RetryPolicy: Sendable, Equatable {
  /// Attempts in all, the first one included; 1 turns retries off.
  var maxAttempts = 4
  var baseDelayMilliseconds: Int64 = 500
  var maxDelayMilliseconds: Int64 = 20_000
  /// Longest `Retry-After` honoured; a longer one ends the retries.
  var retryAfterCapMilliseconds: Int64 = 60_000
  /// Time allowed for a whole call, retries and sleeps included.
  var deadlineMilliseconds: Int64 = 60_000

  init() {}

  init(reader: JSONObjectReader?) throws {
    if let value = try reader?.nonNegativeInt64("max_attempts") {
      maxAttempts = Int(try checkRange(value, "max_attempts", 1...100))
    }
    if let value = try reader?.nonNegativeInt64("retry_base_ms") {
      baseDelayMilliseconds = try checkRange(value, "retry_base_ms", 1...Configuration.maxMilliseconds)
    }
    if let value = try reader?.nonNegativeInt64("retry_max_ms") {
      maxDelayMilliseconds = try checkRange(value, "retry_max_ms", 1...Configuration.maxMilliseconds)
    }
    if let value = try reader?.nonNegativeInt64("retry_after_max_ms") {
      retryAfterCapMilliseconds = try checkRange(
        value, "retry_after_max_ms", 0...Configuration.maxMilliseconds)
    }
    if let value = try reader?.nonNegativeInt64("deadline_ms") {
      deadlineMilliseconds = try checkRange(value, "deadline_ms", 1...Configuration.maxMilliseconds)
    }
    if maxDelayMilliseconds < baseDelayMilliseconds {
      throw OpStatusError.configuration(
        "retry_max_ms (\(maxDelayMilliseconds)) is below retry_base_ms "
          + "(\(baseDelayMilliseconds)); raise retry_max_ms")
    }
  }

  /// The backoff delay after `attempt` failed attempts (1 for the first).
  func backoffMilliseconds<R: RandomNumberGenerator>(afterAttempt attempt: Int, using random: inout R)
    -> Int64
  {
    let exponent = min(max(attempt - 1, 0), 40)
    let (scaled, overflow) = baseDelayMilliseconds.multipliedReportingOverflow(by: 1 << exponent)
    let ceiling = overflow ? maxDelayMilliseconds : min(scaled, maxDelayMilliseconds)
    return Int64.random(in: 0...ceiling, using: &random)
  }
}
