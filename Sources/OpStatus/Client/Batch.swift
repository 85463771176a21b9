import CJansson

/// One entry of a call on many operations: a request that was read, or
/// the error that reading it gave.
struct BatchEntry {
  var request: StatusRequest?
  var requestJSON: JSONPointer?
  var error: OpStatusError?
}

extension Client {
  /// Gets the status of many operations at once over at most
  /// `maxConnections` connections. Returns one result per request, in the
  /// same order; each is a status result or an error.
  func getStatusMany(_ requests: [StatusRequest], maxConnections: Int, call: Sleeper,
                     classifier: StatusClassifier? = nil, deadline: Int64? = nil)
    throws(OpStatusError) -> [Result<StatusResult, OpStatusError>]
  {
    var batch: [BatchRequest] = []
    batch.reserveCapacity(requests.count)
    for request in requests {
      let path = path(namespace: request.namespace, kind: request.kind, "get-service-operation-status")
      batch.append(BatchRequest(path: path, body: try request.encodeBody()))
    }

    var results: [Result<StatusResult, OpStatusError>] =
      Array(repeating: .failure(OpStatusError(.internalError, "no result")), count: requests.count)
    let classifier = classifier ?? configuration.classifier
    let transfer = MultiTransfer(
      client: self, call: call, maxConnections: maxConnections, idempotent: true)
    try transfer.run(batch, deadline: deadline) { index, outcome in
      let path = batch[index].path
      switch outcome {
      case .failure(let error):
        results[index] = .failure(redactor.redact(error))
      case .success(let response):
        do throws(OpStatusError) {
          results[index] = .success(try decodeStatusResponse(response, path: path, classifier: classifier))
        } catch {
          results[index] = .failure(redactor.redact(error))
        }
      }
    }
    return results
  }

  /// Polls many operations until each has finished or failed, the deadline
  /// passes, or the call is cancelled. Every round polls the unfinished
  /// operations at once; `progress` receives each round's result and
  /// returns false to cancel.
  func waitMany(
    _ entries: [BatchEntry], options: WaitOptions, maxConnections: Int, call: Sleeper,
    progress: (JSONPointer) -> Bool
  ) throws(OpStatusError) -> WaitResult {
    let started = monotonicMilliseconds()
    let deadline = started + options.deadlineMilliseconds
    var trackers = entries.map { _ in WaitTracker(options: options) }
    var outcomes: [WaitOutcome] = entries.map { $0.error == nil ? .pending : .error }
    var latest: [JSONPointer?] = entries.map { entry in entry.error.flatMap(errorJSON) }
    defer { for value in latest { if let value { json_decref(value) } } }
    var delay: Int64?
    var polls = 0

    func snapshot(_ finalOutcome: WaitOutcome?) -> JSONPointer? {
      buildWaitManyResult(entries, outcomes, latest, polls: polls, started: started,
                          outcome: finalOutcome)
    }

    while true {
      let active = outcomes.indices.filter { outcomes[$0] == .pending }
      if active.isEmpty {
        let overall = overallOutcome(outcomes)
        return WaitResult(outcome: overall, result: snapshot(overall))
      }
      if monotonicMilliseconds() >= deadline {
        return WaitResult(outcome: .timeout, result: snapshot(.timeout))
      }
      polls += 1

      let results: [Result<StatusResult, OpStatusError>]
      do {
        results = try getStatusMany(
          active.compactMap { entries[$0].request }, maxConnections: maxConnections, call: call,
          classifier: options.classifier, deadline: deadline)
      } catch {
        if error.code == .cancelled { return WaitResult(outcome: .cancelled, result: snapshot(.cancelled)) }
        throw error
      }

      let now = monotonicMilliseconds()
      for (position, index) in active.enumerated() {
        let value: JSONPointer?
        switch results[position] {
        case .success(let status):
          outcomes[index] = trackers[index].update(status.summary, sites: status.sortedSites, now: now)
          value = status.value()
        case .failure(let error):
          if error.code == .cancelled {
            return WaitResult(outcome: .cancelled, result: snapshot(.cancelled))
          }
          if error.code == .timeout && monotonicMilliseconds() >= deadline - 1 {
            // The wait's own deadline cut this poll short: the operation is
            // still pending, and its last status stays.
            continue
          }
          outcomes[index] = .error
          value = errorJSON(error)
        }
        if let old = latest[index] { json_decref(old) }
        latest[index] = value
      }

      guard let round = snapshot(nil) else {
        throw OpStatusError(.outOfMemory, "could not build the wait result")
      }
      let keepGoing = progress(round)
      json_decref(round)
      if !keepGoing { return WaitResult(outcome: .cancelled, result: snapshot(.cancelled)) }

      if !outcomes.contains(.pending) { continue }
      delay = options.delay(after: delay)
      let remaining = deadline - monotonicMilliseconds()
      if !call.sleep(milliseconds: min(delay ?? 0, max(remaining, 0))) {
        return WaitResult(outcome: .cancelled, result: snapshot(.cancelled))
      }
    }
  }
}

/// Builds the result of a call on many operations:
/// `{"operations": [{"request": …, "outcome": …, "status" or "error": …}],
/// "wait": {…}}`.
func buildWaitManyResult(
  _ entries: [BatchEntry], _ outcomes: [WaitOutcome], _ latest: [JSONPointer?], polls: Int,
  started: Int64, outcome: WaitOutcome?
) -> JSONPointer? {
  guard let operations = json_array() else { return nil }
  for index in entries.indices {
    var entry = JSONObjectBuilder()
    if let request = entries[index].requestJSON {
      entry.set("request", json_incref(request))
    }
    entry.set("outcome", string: outcomes[index].rawValue)
    if let value = latest[index] {
      let key: StaticString = outcomes[index] == .error ? "error" : "status"
      entry.set(key, json_incref(value))
    }
    guard let built = entry.finish(), json_array_append_new(operations, built) == 0 else {
      json_decref(operations)
      return nil
    }
  }
  var root = JSONObjectBuilder()
  root.set("operations", operations)
  var info = JSONObjectBuilder()
  let overall = outcome ?? overallOutcome(outcomes)
  info.set("outcome", string: overall.rawValue)
  info.set("polls", integer: Int64(polls))
  info.set("elapsed_ms", integer: monotonicMilliseconds() - started)
  root.set("wait", info.finish())
  return root.finish()
}

/// Returns the outcome of many operations: pending while any is, else failed
/// when any failed or could not be read, else succeeded.
func overallOutcome(_ outcomes: [WaitOutcome]) -> WaitOutcome {
  if outcomes.contains(.pending) { return .pending }
  if outcomes.contains(.failed) || outcomes.contains(.error) { return .failed }
  return .succeeded
}

/// Returns an error as a JSON object: code, name, message, http_status, api_code
/// and retry_after_ms, the last three null when unknown.
func errorJSON(_ error: OpStatusError) -> JSONPointer? {
  var builder = JSONObjectBuilder()
  builder.set("code", integer: Int64(error.code.rawValue))
  builder.set("name", string: error.code.cName)
  builder.set("message", string: error.message)
  builder.set("http_status", error.httpStatus.map { json_integer(json_int_t($0)) } ?? json_null())
  builder.set("api_code", error.apiCode.map { makeJSONString($0) } ?? json_null())
  builder.set(
    "retry_after_ms", error.retryAfterMilliseconds.map { json_integer(json_int_t($0)) } ?? json_null())
  return builder.finish()
}
