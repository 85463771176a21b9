import CCurl
import Glibc

/// One request of a batch.
struct BatchRequest {
  var path: String
  var body: [UInt8]
}

/// Runs many requests at once through libcurl's multi interface, with at
/// most `maxConnections` transfers in flight, each retried by the client's
/// rules on its own.
///
/// Each request's outcome goes to `complete` as soon as it is final, on the
/// calling thread, while the response is still in the handle's buffer.
/// One request's failure never stops the others.
final class MultiTransfer {
  private let client: Client
  private let call: Sleeper
  private let maxConnections: Int
  private let idempotent: Bool

  /// A request waiting to be sent, possibly after a retry delay.
  private struct Pending {
    var index: Int
    var attempt: Int
    var notBefore: Int64
  }

  init(client: Client, call: Sleeper, maxConnections: Int, idempotent: Bool) {
    self.client = client
    self.call = call
    self.maxConnections = maxConnections
    self.idempotent = idempotent
  }

  /// Sends every request and calls `complete(index, result)` once for each.
  /// The whole batch shares the client's deadline, or `deadline` (on the
  /// monotonic clock) when that comes first.
  func run(
    _ requests: [BatchRequest], deadline outerDeadline: Int64? = nil,
    complete: (Int, Result<HTTPResponse, OpStatusError>) -> Void
  ) throws(OpStatusError) {
    let owner = getpid()
    let multi = try client.transport.checkOutMulti(maxConnections: maxConnections)
    // The transfers still in flight are removed first, by the defer below.
    defer { client.transport.checkInMulti(multi, checkedOutBy: owner) }
    // The loop below keeps at most maxConnections transfers in flight, so
    // libcurl's own limits on connections per host and in all stay unset.

    let policy = client.configuration.retry
    let started = monotonicMilliseconds()
    let ownDeadline = started + policy.deadlineMilliseconds
    let deadline = min(ownDeadline, outerDeadline ?? ownDeadline)
    var random = SystemRandomNumberGenerator()
    var queue = requests.indices.map { Pending(index: $0, attempt: 1, notBefore: started) }
    var inFlight: [UnsafeMutableRawPointer: (handle: EasyHandle, pending: Pending, started: Int64)] = [:]
    defer {
      for entry in inFlight.values {
        curl_multi_remove_handle(multi, entry.handle.curl)
        client.transport.checkIn(entry.handle)
      }
    }

    while !queue.isEmpty || !inFlight.isEmpty {
      if call.isCancelled {
        for pending in queue {
          complete(pending.index, .failure(OpStatusError(.cancelled, "the call was cancelled")))
        }
        queue.removeAll()
        throw OpStatusError(.cancelled, "the batch was cancelled")
      }

      // Start what is due, up to the connection limit.
      let now = monotonicMilliseconds()
      var position = 0
      while inFlight.count < maxConnections, position < queue.count {
        guard queue[position].notBefore <= now else {
          position += 1
          continue
        }
        let pending = queue.remove(at: position)
        let request = requests[pending.index]
        let remaining = deadline - now
        if remaining <= 0 {
          complete(
            pending.index,
            .failure(OpStatusError(
              .timeout, "POST \(request.path): deadline_ms (\(policy.deadlineMilliseconds)) "
                + "passed before attempt \(pending.attempt)")))
          continue
        }
        let handle = try client.transport.checkOut()
        let timeout = min(client.configuration.timeoutMilliseconds, remaining)
        let url = client.transport.settings.endpoint.url(forPath: request.path)
        let prepared = handle.prepare(url: url, body: request.body, timeoutMilliseconds: timeout)
        handle.sink.cancellation = call
        guard prepared == CURLE_OK, curl_multi_add_handle(multi, handle.curl) == CURLM_OK else {
          client.transport.checkIn(handle)
          complete(
            pending.index,
            .failure(OpStatusError(.internalError, "could not start POST \(request.path)")))
          continue
        }
        inFlight[handle.curl] = (handle, pending, now)
      }

      var running: Int32 = 0
      _ = curl_multi_perform(multi, &running)

      // Hand over every finished transfer.
      var left: Int32 = 0
      while let message = curl_multi_info_read(multi, &left) {
        guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
          let entry = inFlight.removeValue(forKey: easy)
        else { continue }
        let code = message.pointee.data.result
        curl_multi_remove_handle(multi, easy)
        let request = requests[entry.pending.index]
        let elapsed = monotonicMilliseconds() - entry.started
        let outcome = outcomeOf(code, entry.handle, request.path, elapsed)

        switch outcome {
        case .success:
          complete(entry.pending.index, outcome)
        case .failure(let failure):
          switch retryDelay(failure, entry.pending, deadline, &random, request.path) {
          case .success(let delay):
            var retry = entry.pending
            retry.attempt += 1
            retry.notBefore = monotonicMilliseconds() + delay
            queue.append(retry)
          case .failure(let final):
            complete(entry.pending.index, .failure(final))
          }
        }
        client.transport.checkIn(entry.handle)
      }

      if !inFlight.isEmpty || !queue.isEmpty {
        let wait = nextWakeUp(queue, busy: !inFlight.isEmpty)
        var ready: Int32 = 0
        _ = curl_multi_poll(multi, nil, 0, Int32(wait), &ready)
      }
    }
  }

  /// Returns the response, or the error for a failed transfer or an HTTP
  /// status outside 2xx.
  private func outcomeOf(_ code: CURLcode, _ handle: EasyHandle, _ path: String, _ elapsed: Int64)
    -> Result<HTTPResponse, OpStatusError>
  {
    if code != CURLE_OK {
      return .failure(client.transport.failure(code, handle: handle, path: path, elapsed: elapsed))
    }
    var status = 0
    _ = opstatus_curl_getinfo_long(handle.curl, CURLINFO_RESPONSE_CODE, &status)
    let response = HTTPResponse(status: status, sink: handle.sink, elapsedMilliseconds: elapsed)
    client.logger.log(.debug, "POST \(path) -> HTTP \(status) in \(elapsed) ms (batch)")
    if status < 200 || status >= 300 {
      return .failure(httpStatusError(response, path: path))
    }
    return .success(response)
  }

  /// Returns the delay before the next attempt, or the final error.
  private func retryDelay(
    _ failure: OpStatusError, _ pending: Pending, _ deadline: Int64,
    _ random: inout SystemRandomNumberGenerator, _ path: String
  ) -> Result<Int64, OpStatusError> {
    do throws(OpStatusError) {
      let delay = try client.nextDelay(
        after: failure, attempt: pending.attempt, idempotent: idempotent, deadline: deadline,
        random: &random, path: path)
      client.logger.log(
        .warning,
        "POST \(path): attempt \(pending.attempt) failed (\(failure.code.summary): "
          + "\(failure.message)); retrying in \(delay) ms")
      return .success(delay)
    } catch {
      return .failure(error)
    }
  }

  /// Milliseconds to wait in curl_multi_poll: short while transfers run,
  /// so cancellation is seen quickly, and until the next retry is due
  /// otherwise.
  private func nextWakeUp(_ queue: [Pending], busy: Bool) -> Int64 {
    let now = monotonicMilliseconds()
    var wait: Int64 = 100
    if let soonest = queue.map(\.notBefore).min() {
      wait = min(wait, max(0, soonest - now))
    }
    return busy ? min(wait, 100) : max(wait, 1)
  }
}
