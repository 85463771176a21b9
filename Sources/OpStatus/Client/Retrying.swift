import Glibc

extension Client {
  /// Sends one API request with the retry rules, the rate limit and the
  /// deadline, and decodes the answer with `decode`.
  ///
  /// A request is sent again after HTTP 429, 500, 502, 503 or 504, and
  /// after a connection failure. A request that is not `idempotent` (a
  /// purge) is sent again only when the server certainly did not act on it:
  /// no connection was made, or the answer was 429.
  func send<T>(
    path: String, body: [UInt8], idempotent: Bool, call: Sleeper, deadline outerDeadline: Int64? = nil,
    _ decode: (HTTPResponse) throws(OpStatusError) -> T
  ) throws(OpStatusError) -> T {
    let policy = configuration.retry
    let ownDeadline = monotonicMilliseconds() + policy.deadlineMilliseconds
    let deadline = min(ownDeadline, outerDeadline ?? ownDeadline)
    var random = SystemRandomNumberGenerator()
    var attempt = 0

    while true {
      attempt += 1
      try waitForRateLimit(deadline: deadline, path: path, call: call)

      let remaining = deadline - monotonicMilliseconds()
      if remaining <= 0 {
        throw OpStatusError(
          .timeout, "POST \(path): deadline_ms (\(policy.deadlineMilliseconds)) passed "
            + "before attempt \(attempt)")
      }
      let timeout = min(configuration.timeoutMilliseconds, remaining)

      do {
        return try transport.post(
          path: path, body: body, timeoutMilliseconds: timeout, cancellation: call
        ) {
          (response) throws(OpStatusError) -> T in
          if logger.isEnabled(.debug) {
            logger.log(
              .debug,
              "POST \(path) -> HTTP \(response.status) in \(response.elapsedMilliseconds) ms "
                + "(attempt \(attempt))")
          }
          return try decode(response)
        }
      } catch {
        var failure = error
        if failure.code == .timeout && timeout < configuration.timeoutMilliseconds {
          failure.message += " (deadline_ms is \(policy.deadlineMilliseconds))"
        }
        let delay = try nextDelay(
          after: failure, attempt: attempt, idempotent: idempotent, deadline: deadline,
          random: &random, path: path)
        logger.log(
          .warning,
          "POST \(path): attempt \(attempt) of \(policy.maxAttempts) failed "
            + "(\(failure.code.summary): \(failure.message)); retrying in \(delay) ms")
        if !call.sleep(milliseconds: delay) {
          throw OpStatusError(.cancelled, "POST \(path): cancelled while waiting to retry")
        }
      }
    }
  }

  /// Returns the delay before the next attempt, or throws the failure when
  /// no further attempt is allowed.
  func nextDelay<R: RandomNumberGenerator>(
    after failure: OpStatusError, attempt: Int, idempotent: Bool, deadline: Int64,
    random: inout R, path: String
  ) throws(OpStatusError) -> Int64 {
    let policy = configuration.retry
    guard failure.code != .cancelled, isRetryable(failure, idempotent: idempotent) else {
      if attempt > 1 {
        logger.log(.warning, "POST \(path): giving up after attempt \(attempt): \(failure.message)")
      }
      throw failure
    }

    var exhausted = failure
    guard attempt < policy.maxAttempts else {
      let attempts = attempt == 1 ? "1 attempt" : "\(attempt) attempts"
      exhausted.message += " (gave up after \(attempts), max_attempts)"
      logger.log(.warning, "POST \(path): giving up: \(exhausted.message)")
      throw exhausted
    }

    var delay = policy.backoffMilliseconds(afterAttempt: attempt, using: &random)
    if let requested = failure.retryAfterMilliseconds {
      guard requested <= policy.retryAfterCapMilliseconds else {
        exhausted.message += " (the server asked to wait \(requested) ms, more than "
          + "retry_after_max_ms \(policy.retryAfterCapMilliseconds))"
        logger.log(.warning, "POST \(path): giving up: \(exhausted.message)")
        throw exhausted
      }
      delay = max(delay, requested)
    }

    if monotonicMilliseconds() + delay >= deadline {
      exhausted.message += " (no time left for attempt \(attempt + 1) within deadline_ms "
        + "\(policy.deadlineMilliseconds))"
      logger.log(.warning, "POST \(path): giving up: \(exhausted.message)")
      throw exhausted
    }
    return delay
  }

  private func isRetryable(_ failure: OpStatusError, idempotent: Bool) -> Bool {
    if failure.transportFailure == .notConnected { return true }
    if failure.code == .rateLimited { return true }
    guard idempotent else { return false }
    if failure.transportFailure == .interrupted { return true }
    switch failure.httpStatus {
    case 500, 502, 503, 504: return true
    default: return false
    }
  }

  /// Waits for a token of the client-side rate limit, if one is set.
  private func waitForRateLimit(deadline: Int64, path: String, call: Sleeper) throws(OpStatusError) {
    guard let rateLimiter else { return }
    let wait = rateLimiter.reserve()
    guard wait > 0 else { return }
    if monotonicMilliseconds() + wait >= deadline {
      rateLimiter.release()
      throw OpStatusError(
        .timeout, "POST \(path): the client-side rate limit (rate_per_second) would delay the "
          + "request past deadline_ms (\(configuration.retry.deadlineMilliseconds))")
    }
    logger.log(.debug, "POST \(path): waiting \(wait) ms for the client-side rate limit")
    if !call.sleep(milliseconds: wait) {
      throw OpStatusError(.cancelled, "POST \(path): cancelled while waiting for the rate limit")
    }
  }
}
